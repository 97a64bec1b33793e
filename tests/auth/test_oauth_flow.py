"""The authorization code flow end to end through the real endpoints: sign-in page, code,
token, API call, refresh with rotation and reuse detection, revocation."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.data_protection.retention import apply_retention
from app.db import utcnow
from auth.models import OAuthAuthorizationCode, OAuthToken
from auth.onboarding.service import request_password_reset
from tests.auth.oauth_client import (
    REDIRECT_URI,
    Pkce,
    authorize_params,
    bearer,
    exchange_code,
    get_code,
    redirect_params,
    refresh,
    sign_in_for_tokens,
    submit_sign_in,
    user_with_password,
)
from tests.builders import TEST_CLIENT_ID


def test_sign_in_code_token_api_refresh_revoke(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    params = authorize_params(pkce)

    page = client.get("/oauth/authorize", query_string=params)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="viewport"' in html and 'type="password"' in html
    assert "See budgets, balances, statements and plans" in html
    assert page.headers["Cache-Control"] == "no-store"

    signed_in = submit_sign_in(client, params, email=user.email.upper())
    redirected = redirect_params(signed_in)
    assert signed_in.headers["Location"].startswith(REDIRECT_URI + "?")
    assert redirected["state"] == "state-123"
    assert redirected["iss"] == "http://localhost"  # RFC 9207

    tokens = exchange_code(client, redirected["code"], pkce)
    assert tokens.status_code == 200, tokens.get_data(as_text=True)
    assert tokens.headers["Cache-Control"] == "no-store"
    body = tokens.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert set(body["scope"].split()) == {"profile", "budgets:read"}
    assert body["refresh_token"]

    me = client.get("/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == user.id

    rotated = refresh(client, body["refresh_token"])
    assert rotated.status_code == 200, rotated.get_data(as_text=True)
    assert rotated.headers["Cache-Control"] == "no-store"
    new = rotated.get_json()
    assert new["refresh_token"] != body["refresh_token"]
    assert client.get("/v1/me", headers=bearer(new["access_token"])).status_code == 200

    revoked = client.post(
        "/oauth/revoke",
        data={
            "token": new["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": TEST_CLIENT_ID,
        },
    )
    assert revoked.status_code == 200
    assert client.get("/v1/me", headers=bearer(new["access_token"])).status_code == 401
    assert client.get("/v1/me", headers=bearer(body["access_token"])).status_code == 401
    assert refresh(client, new["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_token_replay_revokes_family(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    first = sign_in_for_tokens(client, user)
    second = refresh(client, first["refresh_token"]).get_json()

    replay = refresh(client, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"

    assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 401
    assert refresh(client, second["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_replayed_code_is_refused_and_revokes_what_it_issued(
    client: FlaskClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce)
    tokens = exchange_code(client, code, pkce).get_json()

    again = exchange_code(client, code, pkce)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 401


def test_wrong_verifier_gets_no_token_and_the_code_still_works(
    client: FlaskClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce)
    wrong = exchange_code(client, code, pkce, code_verifier=Pkce().verifier)
    assert wrong.status_code == 400
    assert wrong.get_json()["error"] == "invalid_grant"
    missing = exchange_code(client, code, pkce, code_verifier=None)
    assert missing.get_json()["error"] == "invalid_request"
    assert exchange_code(client, code, pkce).status_code == 200


def test_code_for_another_redirect_uri_or_client_is_refused(
    client: FlaskClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce)
    other = exchange_code(client, code, pkce, redirect_uri="uk.example.test:/other")
    assert other.get_json()["error"] == "invalid_grant"
    unknown = exchange_code(client, code, pkce, client_id="not-a-client")
    assert unknown.get_json()["error"] == "invalid_client"


def test_expired_code_is_refused(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce)
    for row in db_session.scalars(select(OAuthAuthorizationCode)):
        row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert exchange_code(client, code, pkce).get_json()["error"] == "invalid_grant"


def test_expired_refresh_token_is_refused(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    tokens = sign_in_for_tokens(client, user)
    for row in db_session.scalars(select(OAuthToken).where(OAuthToken.user_id == user.id)):
        row.refresh_expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert refresh(client, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


def test_refresh_cannot_widen_scope(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    tokens = sign_in_for_tokens(client, user)
    wider = refresh(client, tokens["refresh_token"], scope="profile budgets:read plans:write")
    assert wider.get_json()["error"] == "invalid_scope"


def test_scopes_are_cut_to_what_the_role_may_have(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce, scope="profile accounts:manage")
    body = exchange_code(client, code, pkce).get_json()
    assert body["scope"] == "profile"


def test_no_scope_asked_gets_the_roles_scopes(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce, scope=None)
    body = exchange_code(client, code, pkce).get_json()
    assert "budgets:read" in body["scope"].split()
    assert "accounts:manage" not in body["scope"].split()


def test_revoking_an_unknown_token_is_still_200(client: FlaskClient, db_session: Session) -> None:
    user_with_password(db_session)
    response = client.post("/oauth/revoke", data={"token": "nope", "client_id": TEST_CLIENT_ID})
    assert response.status_code == 200


def test_access_token_revocation_signs_out(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    tokens = sign_in_for_tokens(client, user)
    client.post(
        "/oauth/revoke", data={"token": tokens["access_token"], "client_id": TEST_CLIENT_ID}
    )
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(client, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert db_session.scalar(select(func.count()).select_from(OAuthToken)) >= 1


def test_retention_deletes_long_expired_codes_and_reset_links(
    client: FlaskClient, db_session: Session
) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    get_code(client, user, pkce)
    request_password_reset(db_session, email=user.email, lifetime_seconds=60)
    fresh = apply_retention(db_session, now=utcnow())
    assert fresh.deleted["oauth_authorization_codes"] == 0
    assert fresh.deleted["password_resets"] == 0
    later = apply_retention(db_session, now=utcnow() + timedelta(days=31))
    assert later.deleted["oauth_authorization_codes"] == 1
    assert later.deleted["password_resets"] == 1


def test_token_without_the_scope_gets_insufficient_scope(
    client: FlaskClient, db_session: Session
) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce, scope="budgets:read")
    token = exchange_code(client, code, pkce).get_json()
    response = client.get("/v1/me", headers=bearer(token["access_token"]))
    assert response.status_code == 403
    assert response.get_json()["type"] == "/problems/insufficient-scope"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
