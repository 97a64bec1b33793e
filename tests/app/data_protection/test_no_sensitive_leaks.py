"""Sentinel values (passwords, tokens, NHS numbers, bank details, health notes) planted in
requests never appear in the logs, in error bodies or in the audit log's details."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.errors import render_unexpected
from app.observability import JsonLineFormatter
from auth.models import Person
from tests.auth.oauth_client import Pkce, authorize_params, submit_sign_in, user_with_password
from tests.budgets.builders import build_budget
from tests.builders import bearer_for, build_person_user

PASSWORD = "Sentinel-Pa55word-7Q2"
TOKEN = "sentinel-token-9f8e7d6c5b4a"
NHS_NUMBER = "9990001112"
SORT_CODE = "40-47-84"
ACCOUNT_NUMBER = "70872490"
HEALTH_NOTE = "sentinel-note: relapse after stopping clozapine"
SENTINELS = (PASSWORD, TOKEN, NHS_NUMBER, SORT_CODE, ACCOUNT_NUMBER, HEALTH_NOTE)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line at DEBUG and above, formatted exactly as production writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _assert_clean(where: str, content: str) -> None:
    found = [s for s in SENTINELS if s in content]
    assert not found, f"{where} contains {found}"


def test_sentinels_never_reach_logs_error_bodies_or_audit_details(
    client: FlaskClient, db_session: Session, captured_logs: io.StringIO
) -> None:
    user = user_with_password(db_session, build_person_user(db_session, nhs_number=NHS_NUMBER))
    person = db_session.get(Person, user.person_id)
    budget = build_budget(db_session, person=person)
    bodies: list[str] = []

    # A wrong password on the real sign-in page, and a made-up bearer token.
    page = submit_sign_in(client, authorize_params(Pkce()), email=user.email, password=PASSWORD)
    bodies.append(page.get_data(as_text=True))
    bodies.append(
        client.get("/v1/me", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    )
    # Bank details and a health note sent where they do not belong: refused, not echoed.
    headers = bearer_for(db_session, user)
    bodies.append(
        client.post(
            f"/v1/budgets/{budget.id}/plans",
            json={"outcomes": [1], "sort_code": SORT_CODE, "account_number": ACCOUNT_NUMBER},
            headers=headers,
        ).get_data(as_text=True)
    )
    # A health note where it does belong: stored, but never logged or put in audit details.
    created = client.post(
        f"/v1/budgets/{budget.id}/plans",
        json={"outcomes": ["Stay well at home"], "risks": HEALTH_NOTE},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    # The person's own data in their own export is fine; it must still not be logged.
    assert NHS_NUMBER in client.get("/v1/me/export", headers=headers).get_data(as_text=True)

    assert '"logger": "app.access"' in captured_logs.getvalue()  # the capture works
    for body in bodies:
        _assert_clean("an error body", body)
    _assert_clean("the logs", captured_logs.getvalue())
    details = db_session.scalars(select(AuditEntry.details)).all()
    _assert_clean("the audit details", json.dumps(details, default=str))


def test_a_database_error_is_logged_without_the_values_it_quotes(
    app: Flask, db_session: Session, captured_logs: io.StringIO
) -> None:
    """PostgreSQL quotes the duplicate value in its message; the 500 log must not."""
    build_person_user(db_session, nhs_number=NHS_NUMBER)
    with pytest.raises(IntegrityError) as caught, db_session.begin_nested():
        db_session.execute(
            text(
                "INSERT INTO people (id, given_name, family_name, nhs_number, commissioner_id, "
                "created_at, updated_at) SELECT 'dup', 'A', 'B', nhs_number, commissioner_id, "
                "created_at, updated_at FROM people WHERE nhs_number = :nhs"
            ),
            {"nhs": NHS_NUMBER},
        )
    with app.test_request_context("/v1/anything"):
        response = render_unexpected(caught.value)
    assert response.status_code == 500
    _assert_clean("a 500 body", response.get_data(as_text=True))
    logged = captured_logs.getvalue()
    assert "unhandled database error" in logged
    _assert_clean("the log of a database error", logged)
