"""GET /v1/me and the bearer-token guard."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import utcnow
from auth.models import OAuthToken
from tests.app.test_errors import assert_problem
from tests.builders import (
    bearer_for,
    build_person,
    build_person_user,
    build_provider,
    build_provider_staff,
    build_representative,
    build_user,
)


def test_me_shows_roles_and_the_people_i_act_for(client: FlaskClient, db_session) -> None:  # type: ignore[no-untyped-def]
    child = build_person(db_session, given_name="Leo")
    parent = build_representative(db_session, person=child)
    body = client.get("/v1/me", headers=bearer_for(db_session, parent)).get_json()
    assert body["roles"] == ["representative"]
    assert [(p["id"], p["relationship"]) for p in body["acts_for"]] == [(child.id, "parent")]


def test_me_for_a_person_lists_themselves(client: FlaskClient, db_session) -> None:  # type: ignore[no-untyped-def]
    user = build_person_user(db_session)
    body = client.get("/v1/me", headers=bearer_for(db_session, user)).get_json()
    assert body["acts_for"][0]["relationship"] == "self"
    assert body["person_id"] == user.person_id


def test_me_for_provider_staff_lists_the_organisation(client: FlaskClient, db_session) -> None:  # type: ignore[no-untyped-def]
    organisation = build_provider(db_session, name="Bright Days")
    staff = build_provider_staff(db_session, organisation=organisation)
    body = client.get("/v1/me", headers=bearer_for(db_session, staff)).get_json()
    assert body["organisations"] == [
        {"organisation_id": organisation.id, "name": "Bright Days", "membership_role": "owner"}
    ]


def test_no_token_is_401_with_www_authenticate(client: FlaskClient) -> None:
    response = client.get("/v1/me")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401_invalid_token(client: FlaskClient) -> None:
    response = client.get("/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_and_revoked_tokens_are_401(client: FlaskClient, db_session) -> None:  # type: ignore[no-untyped-def]
    user = build_user(db_session)
    headers = bearer_for(db_session, user)
    token = db_session.scalars(select(OAuthToken).where(OAuthToken.user_id == user.id)).one()
    token.access_expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    assert client.get("/v1/me", headers=headers).status_code == 401
    token.access_expires_at = utcnow() + timedelta(minutes=5)
    token.revoked_at = utcnow()
    db_session.flush()
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_disabled_user_is_401(client: FlaskClient, db_session) -> None:  # type: ignore[no-untyped-def]
    user = build_user(db_session)
    headers = bearer_for(db_session, user)
    user.is_active = False
    db_session.flush()
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_token_without_scope_is_403_insufficient_scope(client: FlaskClient, db_session) -> None:  # type: ignore[no-untyped-def]
    user = build_user(db_session)
    response = client.get("/v1/me", headers=bearer_for(db_session, user, scopes={"budgets:read"}))
    assert_problem(response, 403, "insufficient-scope")
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
