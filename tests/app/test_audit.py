"""The audit log: written with the change, and append-only in the database on PostgreSQL."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit import AuditEntry
from tests.builders import bearer_for, build_user
from tests.conftest import is_postgres


def test_a_change_is_audited_with_actor_and_request_id(
    probe_client: FlaskClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    user = build_user(db_session)
    response = probe_client.post(
        "/v1/_probe/commissioners",
        json={"name": "Audited", "kind": "icb"},
        headers={**bearer_for(db_session, user), "X-Request-ID": "audit-req-001"},
    )
    created = response.get_json()["id"]
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.record_id == created)).one()
    assert entry.actor_user_id == user.id
    assert entry.action == "commissioner.create"
    assert entry.request_id == "audit-req-001"
    assert entry.occurred_at.tzinfo is not None


def test_audit_rows_cannot_be_changed_or_deleted_on_postgres(
    probe_client: FlaskClient, db_session
) -> None:  # type: ignore[no-untyped-def]
    if not is_postgres():
        pytest.skip("the append-only trigger exists on PostgreSQL; CI runs this there")
    probe_client.post(
        "/v1/_probe/commissioners",
        json={"name": "Audited", "kind": "icb"},
        headers=bearer_for(db_session, build_user(db_session)),
    )
    for statement in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
            db_session.execute(text(statement))
