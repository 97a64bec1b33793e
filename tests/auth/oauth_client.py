"""Drives the real OAuth endpoints like the mobile app does: page, sign-in form, code, tokens."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth.models import User
from auth.passwords import hash_password
from tests.builders import TEST_CLIENT_ID, build_person_user, ensure_test_client

PASSWORD = "correct-horse-battery"
REDIRECT_URI = "uk.example.test:/callback"


def user_with_password(session: Session, user: User | None = None) -> User:
    """A person user (or the one given) who can sign in with PASSWORD."""
    user = user or build_person_user(session)
    user.password_hash = hash_password(PASSWORD)
    ensure_test_client(session)
    session.flush()
    return user


class Pkce:
    def __init__(self) -> None:
        self.verifier = secrets.token_urlsafe(48)
        self.challenge = create_s256_code_challenge(self.verifier)


def authorize_params(pkce: Pkce, **overrides: Any) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": TEST_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "profile budgets:read",
        "state": "state-123",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def csrf_from(page: TestResponse) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    return match.group(1)


def submit_sign_in(
    client: FlaskClient,
    params: dict[str, str],
    *,
    email: str,
    password: str = PASSWORD,
    decision: str = "allow",
) -> TestResponse:
    """GET the page, then POST the form with its CSRF token."""
    page = client.get("/oauth/authorize", query_string=params)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(
        "/oauth/authorize",
        query_string=params,
        data={
            "csrf_token": csrf_from(page),
            "email": email,
            "password": password,
            "decision": decision,
        },
    )


def redirect_params(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    parsed = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parsed.query).items()}


def get_code(client: FlaskClient, user: User, pkce: Pkce, **overrides: Any) -> str:
    response = submit_sign_in(client, authorize_params(pkce, **overrides), email=user.email)
    assert response.headers["Location"].startswith(overrides.get("redirect_uri", REDIRECT_URI))
    return redirect_params(response)["code"]


def exchange_code(client: FlaskClient, code: str, pkce: Pkce, **overrides: Any) -> TestResponse:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": TEST_CLIENT_ID,
        "code_verifier": pkce.verifier,
    }
    data.update(overrides)
    return client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def refresh(client: FlaskClient, refresh_token: str, **overrides: Any) -> TestResponse:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": TEST_CLIENT_ID,
    }
    data.update(overrides)
    return client.post("/oauth/token", data=data)


def sign_in_for_tokens(client: FlaskClient, user: User) -> dict[str, Any]:
    pkce = Pkce()
    response = exchange_code(client, get_code(client, user, pkce), pkce)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}
