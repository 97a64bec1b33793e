"""The demo clients work through the real flow: `flask dev-token`, the docs page's PKCE
login (what Swagger UI sends), a back-office client; and `flask create-admin`."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo import seed_demo
from auth.demo import (
    BACK_OFFICE_CLIENT_ID,
    BACK_OFFICE_SECRET,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DOCS_CLIENT_ID,
)
from auth.models import OAuthClient, User
from tests.auth.oauth_client import Pkce, bearer, csrf_from, redirect_params
from tests.conftest import RolledBackDatabase

BASE = "http://127.0.0.1:5000"
DOCS_REDIRECT = f"{BASE}/docs/assets/oauth2-redirect.html"


def test_seeding_twice_changes_nothing(db_session: Session) -> None:
    seed_demo(db_session, base_url=BASE)
    users = db_session.scalars(select(User.id)).all()
    clients = {c.client_id: list(c.redirect_uris) for c in db_session.scalars(select(OAuthClient))}
    seed_demo(db_session, base_url=BASE)
    assert db_session.scalars(select(User.id)).all() == users
    assert {
        c.client_id: list(c.redirect_uris) for c in db_session.scalars(select(OAuthClient))
    } == clients
    assert DOCS_REDIRECT in clients[DOCS_CLIENT_ID]


def test_dev_token_for_every_demo_login(app: Flask, rolled_back: RolledBackDatabase) -> None:
    seed_demo(rolled_back.session, base_url=BASE)
    runner = app.test_cli_runner()
    http = app.test_client()
    for email, _, role, _ in DEMO_LOGINS:
        result = runner.invoke(args=["dev-token", email])
        assert result.exit_code == 0, result.output
        tokens = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
        me = http.get("/v1/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200
        assert me.get_json()["roles"] == [str(role)]
        assert tokens["refresh_token"]


def test_dev_token_with_a_wrong_password_fails(app: Flask, rolled_back: RolledBackDatabase) -> None:
    seed_demo(rolled_back.session, base_url=BASE)
    result = app.test_cli_runner().invoke(
        args=["dev-token", "person@demo.example", "--password", "not-the-password"]
    )
    assert result.exit_code != 0
    assert "Sign-in failed" in result.output


def test_docs_page_login_like_swagger_ui(client: FlaskClient, db_session: Session) -> None:
    seed_demo(db_session, base_url=BASE)
    pkce = Pkce()
    params = {
        "response_type": "code",
        "client_id": DOCS_CLIENT_ID,
        "redirect_uri": DOCS_REDIRECT,
        "scope": "profile budgets:read",
        "state": "U3dhZ2dlcg",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    page = client.get("/oauth/authorize", query_string=params)
    assert "Sign in to API documentation page" in page.get_data(as_text=True)
    signed_in = client.post(
        "/oauth/authorize",
        query_string=params,
        data={
            "csrf_token": csrf_from(page),
            "email": "broker@demo.example",
            "password": DEMO_PASSWORD,
            "decision": "allow",
        },
    )
    assert signed_in.headers["Location"].startswith(DOCS_REDIRECT)
    code = redirect_params(signed_in)["code"]
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": DOCS_CLIENT_ID,
            "redirect_uri": DOCS_REDIRECT,
            "code_verifier": pkce.verifier,
        },
    )
    assert token.status_code == 200, token.get_data(as_text=True)
    assert "refresh_token" not in token.get_json()  # the docs page gets no refresh token
    me = client.get("/v1/me", headers=bearer(token.get_json()["access_token"]))
    assert me.get_json()["roles"] == ["broker"]


def test_docs_init_script_uses_the_docs_client(client: FlaskClient) -> None:
    script = client.get("/docs/init.js").get_data(as_text=True)
    assert '"clientId": "api-docs"' in script
    assert '"usePkceWithAuthorizationCodeGrant": true' in script


def test_demo_back_office_client(client: FlaskClient, db_session: Session) -> None:
    seed_demo(db_session, base_url=BASE)
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "bookings:manage"},
        auth=(BACK_OFFICE_CLIENT_ID, BACK_OFFICE_SECRET),
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_create_admin_command(app: Flask, rolled_back: RolledBackDatabase) -> None:
    runner = app.test_cli_runner()
    args = [
        "create-admin",
        "--email",
        "Chief@ICB.example",
        "--name",
        "Chris Chief",
        "--commissioner",
        "Test ICB",
        "--password",
        "a-long-enough-password",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    user = rolled_back.session.scalars(select(User).where(User.email == "chief@icb.example")).one()
    assert user.roles == {"admin"}
    assert user.commissioner_id
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    again = runner.invoke(args=args)
    assert again.exit_code != 0
    assert "already exists" in again.output
    short = runner.invoke(args=[*args[:-1], "short"])
    assert "at least 10" in short.output
