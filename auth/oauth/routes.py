"""The OAuth endpoints: the sign-in and consent page, token, revocation and metadata.

`/oauth/authorize` is a server-rendered page (works on a phone, no JavaScript). A request
whose client or redirect URI is not recognised gets an error page and is never redirected;
once the redirect URI is known to be the client's own, other errors go back to it as
RFC 6749 error parameters. Sign-in and consent are one form, protected by a CSRF token
kept in the (signed, SameSite=Lax) session cookie.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app.db import get_session
from auth import service as accounts
from auth.oauth.server import authorization_server
from auth.pages import csrf_ok, forget_csrf, render_page
from auth.roles import SCOPE_DESCRIPTIONS, Scope

blp = Blueprint("oauth", __name__, template_folder="../templates")

GENERIC_LOGIN_ERROR = "That email and password did not work. Check them and try again."


def _error_page(error: OAuth2Error) -> Response:
    return render_page(
        "auth/oauth_error.html",
        400,
        error=error.error,
        description=error.description or "This sign-in request is not valid.",
    )


def _authorize_error(error: OAuth2Error) -> ResponseReturnValue:
    """Redirect only to a redirect URI already matched to the client; else an error page."""
    if getattr(error, "redirect_uri", None):
        return authorization_server().handle_error_response(None, error)
    return _error_page(error)


def _consent_page(grant: Any, *, status: int = 200, message: str | None = None) -> Response:
    scopes = [s for s in (grant.request.scope or "").split() if s in set(Scope)]
    return render_page(
        "auth/authorize.html",
        status,
        client_name=grant.client.name,
        scopes=[SCOPE_DESCRIPTIONS[Scope(s)] for s in scopes],
        action=request.full_path,
        email=request.form.get("email", ""),
        message=message,
    )


@blp.get("/oauth/authorize")
def authorize_page() -> ResponseReturnValue:
    """Show the sign-in and consent page for a valid authorization request."""
    server = authorization_server()
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _authorize_error(error)
    return _consent_page(grant)


@blp.post("/oauth/authorize")
def authorize_decision() -> ResponseReturnValue:
    """Sign in and allow (a code goes to the app) or deny (access_denied goes to the app)."""
    server = authorization_server()
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _authorize_error(error)
    if not csrf_ok():
        return _consent_page(grant, status=400, message="This page expired. Please sign in again.")
    if request.form.get("decision") != "allow":
        return server.create_authorization_response(grant=grant, grant_user=None)
    config = current_app.config
    user = accounts.authenticate_login(
        get_session(),
        email=request.form.get("email", ""),
        password=request.form.get("password", ""),
        max_failures=int(config["LOGIN_MAX_FAILURES"]),
        lockout_seconds=int(config["LOGIN_LOCKOUT_SECONDS"]),
    )
    if user is None:
        return _consent_page(grant, status=400, message=GENERIC_LOGIN_ERROR)
    forget_csrf()
    return server.create_authorization_response(grant=grant, grant_user=user)


@blp.post("/oauth/token")
def token() -> ResponseReturnValue:
    """Exchange a code (with its PKCE verifier), a refresh token or client credentials."""
    response = authorization_server().create_token_response()
    if response.status_code != 200:
        get_session().rollback()  # an unfinished claim must not stick
    return response


@blp.post("/oauth/revoke")
def revoke() -> ResponseReturnValue:
    """RFC 7009: revoke an access or refresh token (and its whole sign-in)."""
    return authorization_server().create_endpoint_response("revocation")


@blp.get("/.well-known/oauth-authorization-server")
def metadata() -> ResponseReturnValue:
    """RFC 8414 authorization server metadata."""
    issuer = current_app.config.get("OAUTH_ISSUER") or request.url_root.rstrip("/")
    auth_methods = ["none", "client_secret_basic", "client_secret_post"]
    return jsonify(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "scopes_supported": [str(s) for s in Scope],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
        }
    )
