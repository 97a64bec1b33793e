"""Onboarding end to end: admin invitations, provider self-signup, password reset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.db import utcnow
from auth.models import Invitation, PasswordReset, Representation, User
from auth.onboarding.routes import RESET_ANSWER
from auth.passwords import verify_password
from tests.app.test_errors import assert_problem
from tests.auth.oauth_client import (
    PASSWORD,
    bearer,
    csrf_from,
    sign_in_for_tokens,
    user_with_password,
)
from tests.builders import (
    bearer_for,
    build_admin,
    build_broker,
    build_person,
    build_person_user,
    ensure_test_client,
)

NEW_PASSWORD = "a-brand-new-password"


class FakeSMTP:
    sent: list[EmailMessage] = []

    def __init__(self, host: str, port: int, timeout: int) -> None:
        self.host = host

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def ehlo(self) -> None:
        return None

    def has_extn(self, name: str) -> bool:
        return False

    def login(self, user: str, password: str) -> None:
        return None

    def send_message(self, message: EmailMessage) -> None:
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmailMessage]]:
    FakeSMTP.sent = []
    monkeypatch.setattr("auth.mail.smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test")
    yield FakeSMTP.sent


def _link_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _invite(client: FlaskClient, admin: User, session: Session, **body: Any) -> Any:
    return client.post("/v1/invitations", json=body, headers=bearer_for(session, admin))


def _accept(client: FlaskClient, path: str, password: str = NEW_PASSWORD, again: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    return client.post(
        urlsplit(path).path,
        data={
            "csrf_token": csrf_from(page),
            "token": token.group(1),
            "password": password,
            "password_again": again if again is not None else password,
        },
    )


def test_admin_invites_a_person_who_opens_the_account_and_signs_in(
    client: FlaskClient, db_session: Session
) -> None:
    admin = build_admin(db_session)
    person = build_person(db_session, commissioner_id=admin.commissioner_id)
    ensure_test_client(db_session)
    response = _invite(
        client,
        admin,
        db_session,
        email="Priya@Example.org",
        display_name="Priya",
        role="person",
        person_id=person.id,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["emailed"] is False
    assert body["email"] == "priya@example.org"
    assert "token=" in body["invitation_url"]
    stored = db_session.scalars(select(Invitation)).one()
    assert body["invitation_url"].split("token=")[1] not in stored.token_hash

    done = _accept(client, _link_path(body["invitation_url"]))
    assert done.status_code == 200
    assert "Your account is ready" in done.get_data(as_text=True)
    user = db_session.scalars(select(User).where(User.email == "priya@example.org")).one()
    assert user.person_id == person.id and user.roles == {"person"}

    user.password_hash = user_with_password(db_session, user).password_hash
    tokens = sign_in_for_tokens(client, user)
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200

    used = client.get(_link_path(body["invitation_url"]))
    assert used.status_code == 404
    assert "already been used" in used.get_data(as_text=True)


def test_invitation_for_a_representative_links_them_to_the_person(
    client: FlaskClient, db_session: Session
) -> None:
    admin = build_admin(db_session)
    child = build_person(db_session, commissioner_id=admin.commissioner_id)
    body = _invite(
        client,
        admin,
        db_session,
        email="mum@example.org",
        display_name="Mum",
        role="representative",
        person_id=child.id,
        relationship="parent",
    ).get_json()
    assert _accept(client, _link_path(body["invitation_url"])).status_code == 200
    user = db_session.scalars(select(User).where(User.email == "mum@example.org")).one()
    link = db_session.scalars(
        select(Representation).where(Representation.representative_id == user.id)
    ).one()
    assert (link.person_id, link.relationship_to_person) == (child.id, "parent")
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "invitation.accepted")
    ).one()
    assert (audit.actor_user_id, audit.subject_person_id) == (user.id, child.id)


def test_invitation_for_a_broker_sets_the_commissioner(
    client: FlaskClient, db_session: Session, smtp: list[EmailMessage]
) -> None:
    admin = build_admin(db_session)
    body = _invite(
        client, admin, db_session, email="b@example.org", display_name="B", role="broker"
    ).get_json()
    assert body["emailed"] is True
    assert smtp[0]["To"] == "b@example.org"
    assert body["invitation_url"] in smtp[0].get_content()
    _accept(client, _link_path(body["invitation_url"]))
    user = db_session.scalars(select(User).where(User.email == "b@example.org")).one()
    assert user.commissioner_id == admin.commissioner_id


def test_expired_invitation_cannot_be_used(client: FlaskClient, db_session: Session) -> None:
    admin = build_admin(db_session)
    body = _invite(
        client, admin, db_session, email="b@example.org", display_name="B", role="broker"
    ).get_json()
    db_session.scalars(select(Invitation)).one().expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    page = client.get(_link_path(body["invitation_url"]))
    assert page.status_code == 404
    assert "expired" in page.get_data(as_text=True)


def test_accepting_needs_matching_strong_passwords_and_csrf(
    client: FlaskClient, db_session: Session
) -> None:
    admin = build_admin(db_session)
    body = _invite(
        client, admin, db_session, email="b@example.org", display_name="B", role="broker"
    ).get_json()
    path = _link_path(body["invitation_url"])
    assert "do not match" in _accept(client, path, again="different-password").get_data(
        as_text=True
    )
    assert "at least 10" in _accept(client, path, password="short").get_data(as_text=True)
    forged = client.post(
        urlsplit(path).path, data={"token": path.split("token=")[1], "password": NEW_PASSWORD}
    )
    assert forged.status_code == 400
    assert db_session.scalars(select(User).where(User.email == "b@example.org")).first() is None


def test_only_admins_invite(client: FlaskClient, db_session: Session) -> None:
    broker = build_broker(db_session)
    response = client.post(
        "/v1/invitations",
        json={"email": "x@example.org", "display_name": "X", "role": "broker"},
        headers=bearer_for(db_session, broker),
    )
    assert_problem(response, 403, "insufficient-scope")
    no_token = client.post("/v1/invitations", json={})
    assert_problem(no_token, 401, "unauthorized")


def test_admin_cannot_invite_for_another_commissioners_person(
    client: FlaskClient, db_session: Session
) -> None:
    admin = build_admin(db_session)
    stranger = build_person(db_session)
    response = _invite(
        client,
        admin,
        db_session,
        email="x@example.org",
        display_name="X",
        role="person",
        person_id=stranger.id,
    )
    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@example.org", "display_name": "X", "role": "admin"},
        {"email": "not-an-email", "display_name": "X", "role": "broker"},
        {"email": "x@example.org", "display_name": "X", "role": "broker", "extra": 1},
        {"email": "x@example.org", "display_name": "X", "role": "person"},
        {"email": "x@example.org", "display_name": "X", "role": "representative"},
    ],
)
def test_invitation_validation(client: FlaskClient, db_session: Session, body: Any) -> None:
    admin = build_admin(db_session)
    if body["role"] == "representative":
        body["person_id"] = build_person(db_session, commissioner_id=admin.commissioner_id).id
    assert_problem(_invite(client, admin, db_session, **body), 422, "validation-error")


def test_inviting_an_existing_email_is_a_conflict(client: FlaskClient, db_session: Session) -> None:
    admin = build_admin(db_session)
    existing = build_person_user(db_session)
    response = _invite(
        client, admin, db_session, email=existing.email, display_name="X", role="broker"
    )
    assert_problem(response, 409, "conflict")


def test_provider_signs_up_unverified_and_can_sign_in(
    client: FlaskClient, db_session: Session
) -> None:
    ensure_test_client(db_session)
    response = client.post(
        "/v1/provider-signups",
        json={
            "organisation_name": "Sunrise Support",
            "organisation_kind": "company",
            "email": "owner@sunrise.example",
            "display_name": "Sam Owner",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["organisation_status"] == "unverified"
    owner = db_session.get(User, body["user_id"])
    assert owner is not None
    tokens = sign_in_for_tokens(client, owner)
    me = client.get("/v1/me", headers=bearer(tokens["access_token"])).get_json()
    assert me["roles"] == ["provider_staff"]
    assert me["organisations"][0]["membership_role"] == "owner"

    again = client.post(
        "/v1/provider-signups",
        json={
            "organisation_name": "Other",
            "organisation_kind": "charity",
            "email": "OWNER@sunrise.example",
            "display_name": "X",
            "password": PASSWORD,
        },
    )
    assert_problem(again, 409, "conflict")


@pytest.mark.parametrize(
    "change",
    [{"password": "short"}, {"organisation_kind": "pub"}, {"unknown": "x"}, {"email": "nope"}],
)
def test_provider_signup_validation(client: FlaskClient, change: dict[str, str]) -> None:
    body = {
        "organisation_name": "Sunrise",
        "organisation_kind": "company",
        "email": "o@sunrise.example",
        "display_name": "O",
        "password": PASSWORD,
        **change,
    }
    assert_problem(client.post("/v1/provider-signups", json=body), 422, "validation-error")


def test_password_reset_end_to_end(
    client: FlaskClient, db_session: Session, smtp: list[EmailMessage]
) -> None:
    user = user_with_password(db_session)
    old_tokens = sign_in_for_tokens(client, user)
    known = client.post("/v1/password-resets", json={"email": user.email})
    unknown = client.post("/v1/password-resets", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json() == {"message": RESET_ANSWER}
    assert len(smtp) == 1
    url = re.search(r"(http\S+reset-password\?token=\S+)", smtp[0].get_content())
    assert url
    path = _link_path(url.group(1))

    done = _accept(client, path)
    assert "Password changed" in done.get_data(as_text=True)
    assert client.get("/v1/me", headers=bearer(old_tokens["access_token"])).status_code == 401
    assert client.get(path).status_code == 404  # single use

    db_session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_expired_reset_link_is_refused(
    client: FlaskClient, db_session: Session, smtp: list[EmailMessage]
) -> None:
    user = user_with_password(db_session)
    client.post("/v1/password-resets", json={"email": user.email})
    db_session.scalars(select(PasswordReset)).one().expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    url = re.search(r"(http\S+reset-password\?token=\S+)", smtp[0].get_content())
    assert url
    assert client.get(_link_path(url.group(1))).status_code == 404


def test_forgot_password_page_answers_the_same_for_anyone(
    client: FlaskClient, db_session: Session
) -> None:
    user = user_with_password(db_session)
    page = client.get("/accounts/forgot-password")
    assert page.status_code == 200
    answers = [
        client.post(
            "/accounts/forgot-password", data={"csrf_token": csrf_from(page), "email": email}
        ).get_data(as_text=True)
        for email in (user.email, "nobody@example.org")
    ]
    assert RESET_ANSWER in answers[0]
    without_nonce = [re.sub(r'nonce="[^"]+"', "", answer) for answer in answers]
    assert without_nonce[0] == without_nonce[1]
    assert db_session.scalars(select(PasswordReset)).one().user_id == user.id
