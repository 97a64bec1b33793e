"""The interactive API docs at /docs: Swagger UI, served from the installed package.

Swagger UI is shipped by the `flask-swagger-ui` wheel, so the page works with no CDN.
It can sign in through our own OAuth server (authorization code with PKCE) using the
`api-docs` public client, so a newcomer can try every endpoint from the browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, render_template, send_from_directory, url_for
from flask.typing import ResponseReturnValue

SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
DOCS_CLIENT_ID = "api-docs"

blp = Blueprint("docs", __name__, template_folder="templates")


@blp.get("/docs")
@blp.get("/docs/")
def page() -> ResponseReturnValue:
    """The Swagger UI page."""
    return render_template("docs.html")


@blp.get("/docs/init.js")
def init_script() -> ResponseReturnValue:
    """Swagger UI's start-up script (kept out of the page so the CSP can forbid inline JS)."""
    config = {
        "url": url_for("api-docs.openapi_json"),
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "persistAuthorization": False,
        "oauth2RedirectUrl": url_for("docs.asset", filename="oauth2-redirect.html", _external=True),
    }
    oauth = {"clientId": DOCS_CLIENT_ID, "usePkceWithAuthorizationCodeGrant": True}
    script = (
        "window.onload = function () {\n"
        f"  var config = {json.dumps(config)};\n"
        "  config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset];\n"
        "  config.layout = 'BaseLayout';\n"
        "  window.ui = SwaggerUIBundle(config);\n"
        f"  window.ui.initOAuth({json.dumps(oauth)});\n"
        "};\n"
    )
    return Response(script, content_type="application/javascript")


@blp.get("/docs/assets/<path:filename>")
def asset(filename: str) -> ResponseReturnValue:
    """Swagger UI's static files."""
    return send_from_directory(SWAGGER_DIST, filename, max_age=3600)
