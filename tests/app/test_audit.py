"""The audit log: written with the change, and append-only in the database on PostgreSQL."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from app.audit import AuditEntry, record_audit
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


def _audit_rows(session, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_changes_audit_rows_are_inserted_together_before_the_next_statement(db_session) -> None:  # type: ignore[no-untyped-def]
    user = build_user(db_session)
    db_session.flush()
    inserts: list[str] = []

    def count(_conn, _cursor, sql: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if sql.startswith("INSERT INTO audit_entries"):
            inserts.append(sql)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        for n in range(2):
            record_audit(
                db_session, actor=user, action="probe.change", record_type="probe", record_id=str(n)
            )
        assert inserts == []  # held back until the next statement
        rows = _audit_rows(db_session, "probe.change")  # the query's autoflush writes them
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert len(inserts) == 1
    assert sorted(row.record_id for row in rows) == ["0", "1"]


def test_a_rollback_discards_held_audit_rows_and_a_commit_writes_them(db_session) -> None:  # type: ignore[no-untyped-def]
    user = build_user(db_session)
    db_session.commit()
    record_audit(db_session, actor=user, action="probe.undone", record_type="probe", record_id="x")
    db_session.rollback()
    record_audit(db_session, actor=user, action="probe.kept", record_type="probe", record_id="y")
    db_session.commit()  # nothing else for the ORM to write: the commit still inserts it
    assert _audit_rows(db_session, "probe.undone") == []
    assert [row.record_id for row in _audit_rows(db_session, "probe.kept")] == ["y"]
