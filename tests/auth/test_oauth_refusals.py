"""Every refusal of the authorization server, each with its OAuth error code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.notifications import Notification
from auth.models import OAuthAuthorizationCode, OAuthClient
from auth.oauth.routes import GENERIC_LOGIN_ERROR
from auth.passwords import hash_password
from auth.roles import Scope
from tests.app.test_errors import assert_problem
from tests.auth.oauth_client import (
    PASSWORD,
    REDIRECT_URI,
    Pkce,
    authorize_params,
    csrf_from,
    exchange_code,
    get_code,
    redirect_params,
    submit_sign_in,
    user_with_password,
)
from tests.builders import TEST_CLIENT_ID, build_provider, ensure_test_client

BACK_OFFICE_SECRET = "s3cret-back-office-key"


def _codes(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(OAuthAuthorizationCode)) or 0)


@pytest.mark.parametrize(
    ("challenge", "method"),
    [(None, None), ("from-pkce", "plain"), ("from-pkce", None), (None, "S256")],
    ids=["no-challenge", "plain", "no-method", "method-without-challenge"],
)
def test_authorize_refuses_anything_but_s256_pkce(  # type: ignore[no-untyped-def]
    client: FlaskClient, db_session, challenge, method
) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    params = authorize_params(
        pkce,
        code_challenge=pkce.challenge if challenge else None,
        code_challenge_method=method,
    )
    if challenge is None:
        params.pop("code_challenge", None)
    page = client.get("/oauth/authorize", query_string=params)
    assert redirect_params(page)["error"] == "invalid_request"
    assert "code" not in redirect_params(page)
    # Posting the form anyway issues no code either.
    csrf = csrf_from(client.get("/oauth/authorize", query_string=authorize_params(pkce)))
    posted = client.post(
        "/oauth/authorize",
        query_string=params,
        data={"csrf_token": csrf, "email": user.email, "password": PASSWORD, "decision": "allow"},
    )
    assert redirect_params(posted)["error"] == "invalid_request"
    assert _codes(db_session) == 0


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "uk.example.test:/callback/extra",
        "uk.example.test:/CALLBACK",
        "https://evil.example/callback",
        "uk.example.test:/callback?x=1",
        None,
    ],
)
def test_redirect_uri_mismatch_shows_an_error_page_and_never_redirects(  # type: ignore[no-untyped-def]
    client: FlaskClient, db_session, redirect_uri
) -> None:
    user_with_password(db_session)
    params = authorize_params(Pkce(), redirect_uri=redirect_uri)
    response = client.get("/oauth/authorize", query_string=params)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "We cannot start this sign-in" in response.get_data(as_text=True)
    posted = client.post("/oauth/authorize", query_string=params, data={"decision": "allow"})
    assert posted.status_code == 400
    assert "Location" not in posted.headers


def test_unknown_or_disabled_client_error_page(client: FlaskClient, db_session: Session) -> None:
    user_with_password(db_session)
    unknown = client.get("/oauth/authorize", query_string=authorize_params(Pkce(), client_id="x"))
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    db_session.get(OAuthClient, TEST_CLIENT_ID).is_active = False
    db_session.flush()
    disabled = client.get("/oauth/authorize", query_string=authorize_params(Pkce()))
    assert disabled.status_code == 400 and "Location" not in disabled.headers


def test_loopback_redirect_may_use_any_port_but_nothing_else_varies(  # type: ignore[no-untyped-def]
    client: FlaskClient, db_session
) -> None:
    user = user_with_password(db_session)
    ensure_test_client(db_session).redirect_uris = [REDIRECT_URI, "http://127.0.0.1/cb"]
    db_session.flush()
    pkce = Pkce()
    code = get_code(client, user, pkce, redirect_uri="http://127.0.0.1:51234/cb")
    assert (
        exchange_code(client, code, pkce, redirect_uri="http://127.0.0.1:51234/cb").status_code
        == 200
    )
    for bad in (
        "http://127.0.0.1:51234/other",
        "http://localhost:51234/cb",
        "https://127.0.0.1/cb",
    ):
        page = client.get("/oauth/authorize", query_string=authorize_params(pkce, redirect_uri=bad))
        assert page.status_code == 400, bad


def test_implicit_grant_is_refused(client: FlaskClient, db_session: Session) -> None:
    user_with_password(db_session)
    response = client.get(
        "/oauth/authorize", query_string=authorize_params(Pkce(), response_type="token")
    )
    assert redirect_params(response)["error"] == "unsupported_response_type"
    assert "access_token" not in response.headers["Location"]


def test_password_grant_is_refused(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": user.email,
            "password": PASSWORD,
            "client_id": TEST_CLIENT_ID,
        },
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_missing_or_wrong_csrf_token_is_refused(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    params = authorize_params(Pkce())
    client.get("/oauth/authorize", query_string=params)
    for token in (None, "forged"):
        data = {"email": user.email, "password": PASSWORD, "decision": "allow"}
        if token:
            data["csrf_token"] = token
        response = client.post("/oauth/authorize", query_string=params, data=data)
        assert response.status_code == 400
        assert "Location" not in response.headers
    assert _codes(db_session) == 0


def test_wrong_password_looks_like_unknown_email(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    params = authorize_params(Pkce())
    wrong = submit_sign_in(client, params, email=user.email, password="wrong-password-1")
    unknown = submit_sign_in(client, params, email="nobody@test.example")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert GENERIC_LOGIN_ERROR in response.get_data(as_text=True)
        assert "Location" not in response.headers


def test_repeated_failures_lock_the_account_for_a_while(
    client: FlaskClient, db_session, app
) -> None:  # type: ignore[no-untyped-def]
    user = user_with_password(db_session)
    params = authorize_params(Pkce())
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        submit_sign_in(client, params, email=user.email, password="wrong-password-1")
    db_session.refresh(user)
    assert user.locked_until is not None
    notice = db_session.scalars(select(Notification).where(Notification.user_id == user.id)).one()
    assert notice.kind == "account-locked"
    locked = submit_sign_in(client, params, email=user.email)
    assert locked.status_code == 400
    assert GENERIC_LOGIN_ERROR in locked.get_data(as_text=True)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert submit_sign_in(client, params, email=user.email).status_code == 302


def test_disabled_account_cannot_sign_in(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    user.is_active = False
    db_session.flush()
    response = submit_sign_in(client, authorize_params(Pkce()), email=user.email)
    assert response.status_code == 400


def test_cancel_sends_access_denied_to_the_app(client: FlaskClient, db_session: Session) -> None:
    user = user_with_password(db_session)
    response = submit_sign_in(client, authorize_params(Pkce()), email=user.email, decision="deny")
    params = redirect_params(response)
    assert (params["error"], params["state"]) == ("access_denied", "state-123")
    assert params["iss"] == "http://localhost"
    assert "code" not in params
    assert _codes(db_session) == 0


def test_unknown_scope_is_invalid_scope(client: FlaskClient, db_session: Session) -> None:
    user_with_password(db_session)
    response = client.get(
        "/oauth/authorize", query_string=authorize_params(Pkce(), scope="profile admin:everything")
    )
    assert redirect_params(response)["error"] == "invalid_scope"


def test_metadata_document(client: FlaskClient) -> None:
    body = client.get("/.well-known/oauth-authorization-server").get_json()
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["response_types_supported"] == ["code"]
    assert "implicit" not in body["grant_types_supported"]
    assert "password" not in body["grant_types_supported"]
    assert body["token_endpoint"].endswith("/oauth/token")
    assert body["revocation_endpoint"].endswith("/oauth/revoke")
    assert body["issuer"] == "http://localhost"
    assert str(Scope.BUDGETS_READ) in body["scopes_supported"]


def _back_office_client(session: Session, secret: str = BACK_OFFICE_SECRET) -> OAuthClient:
    organisation = build_provider(session)
    return ensure_test_client(
        session,
        client_id="back-office-test",
        name="Bright Days rota system",
        is_public=False,
        client_secret_hash=hash_password(secret),
        organisation_id=organisation.id,
        grant_types=["client_credentials"],
        redirect_uris=[],
        allowed_scopes="providers:read providers:manage bookings:manage profile",
    )


def test_client_credentials_for_back_office(client: FlaskClient, db_session: Session) -> None:
    back_office = _back_office_client(db_session)
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "bookings:manage"},
        auth=("back-office-test", BACK_OFFICE_SECRET),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["scope"] == "bookings:manage"
    assert "refresh_token" not in body
    assert response.headers["Cache-Control"] == "no-store"
    everything = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "back-office-test",
            "client_secret": BACK_OFFICE_SECRET,
        },
    ).get_json()
    # Never more than the back-office scopes, even if the client row lists others.
    assert set(everything["scope"].split()) == {
        "providers:read",
        "providers:manage",
        "bookings:manage",
    }
    assert back_office.organisation_id


def test_client_credentials_refusals(client: FlaskClient, db_session: Session) -> None:
    _back_office_client(db_session)
    wrong_secret = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("back-office-test", "wrong"),
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.get_json()["error"] == "invalid_client"
    beyond = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "profile"},
        auth=("back-office-test", BACK_OFFICE_SECRET),
    )
    assert beyond.get_json()["error"] == "invalid_scope"
    ensure_test_client(db_session)
    public = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": TEST_CLIENT_ID}
    )
    assert public.get_json()["error"] in {"invalid_client", "unauthorized_client"}


def test_public_client_cannot_use_a_confidential_clients_code_flow_without_pkce(  # type: ignore[no-untyped-def]
    client: FlaskClient, db_session
) -> None:
    user = user_with_password(db_session)
    pkce = Pkce()
    code = get_code(client, user, pkce)
    response = exchange_code(client, code, pkce, code_verifier=None)
    assert response.get_json()["error"] == "invalid_request"


def test_sign_in_is_throttled_per_address(engine: Engine) -> None:
    from tests.conftest import RolledBackDatabase, make_app

    throttled = make_app(engine, LOGIN_RATE_LIMIT="2 per minute", RATELIMIT_ENABLED=True)
    database = RolledBackDatabase(engine)
    database.bind(throttled)
    try:
        http = throttled.test_client()
        statuses = [
            http.post("/oauth/token", data={"grant_type": "password"}).status_code for _ in range(3)
        ]
        assert statuses[:2] == [400, 400]
        assert statuses[2] == 429
        resets = [http.post("/v1/password-resets", json={}) for _ in range(3)]
        assert [r.status_code for r in resets[:2]] == [422, 422]
        assert_problem(resets[2], 429, "rate-limited")
        # The answer reports the sign-in limit that refused it, and when to retry.
        assert resets[2].headers["X-RateLimit-Limit"] == "2"
        assert resets[2].headers["X-RateLimit-Remaining"] == "0"
        assert 0 < int(resets[2].headers["Retry-After"]) <= 120
        other_address = http.post(
            "/oauth/token",
            data={"grant_type": "password"},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
        assert other_address.status_code == 400
    finally:
        database.close()
