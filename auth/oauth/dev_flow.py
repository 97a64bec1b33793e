"""The PKCE flow run from the command line, for development (`flask dev-token`).

It walks the real endpoints exactly as the app does: opens the sign-in page, posts the
form with its CSRF token, follows the redirect to pick up the code, and exchanges the code
with the verifier. Nothing is bypassed, so a token from here proves the flow works.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask


class DevFlowError(RuntimeError):
    """The flow stopped; the message says where and why."""


def run_pkce_flow(
    app: Flask,
    *,
    client_id: str,
    redirect_uri: str,
    email: str,
    password: str,
    scope: str | None,
) -> dict[str, Any]:
    """Sign in as `email` through the authorize page and return the token response."""
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": secrets.token_urlsafe(8),
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if scope:
        params["scope"] = scope
    http = app.test_client()
    page = http.get("/oauth/authorize", query_string=params)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    if page.status_code != 200 or csrf is None:
        raise DevFlowError(f"The sign-in page refused the request ({page.status_code}).")
    signed_in = http.post(
        "/oauth/authorize",
        query_string=params,
        data={
            "csrf_token": csrf.group(1),
            "email": email,
            "password": password,
            "decision": "allow",
        },
    )
    if signed_in.status_code != 302:
        raise DevFlowError("Sign-in failed: check the email and password.")
    returned = parse_qs(urlsplit(signed_in.headers["Location"]).query)
    if "code" not in returned:
        raise DevFlowError(f"No code came back: {returned.get('error', ['?'])[0]}.")
    token = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": returned["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    if token.status_code != 200:
        raise DevFlowError(f"The code exchange failed: {token.get_json()}.")
    return dict(token.get_json())
