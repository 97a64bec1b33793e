"""Rows a WorkSession holds back (`hold_rows`) reach the database before anything the
session runs next can read, go together in one statement on PostgreSQL, and vanish with
a rollback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.db import WorkSession, new_id, utcnow
from app.direct_sql import DirectStatement, NotDirect, RowUpdate, insert_into_tables
from app.notifications import Notification
from app.stored_records import insert_or_hold_rows, insert_records
from auth.models import User
from tests.builders import build_user
from tests.conftest import is_postgres

_COUNT_NOTIFICATIONS = DirectStatement(
    select(func.count()).select_from(Notification).where(Notification.kind == bindparam("kind"))
)


def _notification(user_id: str, kind: str = "probe.held") -> dict[str, Any]:
    now = utcnow()
    return {
        "id": new_id(),
        "user_id": user_id,
        "kind": kind,
        "title": "Held",
        "body": "",
        "record_type": None,
        "record_id": None,
        "created_at": now,
        "read_at": None,
        "updated_at": now,
    }


def _audit(n: int) -> dict[str, Any]:
    return {
        "id": new_id(),
        "occurred_at": utcnow(),
        "actor_user_id": None,
        "actor_client_id": None,
        "subject_person_id": None,
        "action": "probe.held",
        "record_type": "probe",
        "record_id": str(n),
        "request_id": None,
        "details": {"n": n},
    }


@pytest.fixture
def inserts(db_session: Session) -> Iterator[list[str]]:
    """The INSERT statements the session's connection runs from here on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if "INSERT" in sql:
            seen.append(sql)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


@pytest.fixture
def user_id(db_session: Session) -> str:
    user = build_user(db_session)
    db_session.flush()
    return str(user.id)


def _hold(session: Session, user_id: str, count: int = 2) -> None:
    assert isinstance(session, WorkSession) and session.holds_rows()
    session.hold_rows(Notification.__table__, [_notification(user_id) for _ in range(count)])


def test_a_direct_statement_runs_after_the_held_rows(
    db_session: Session, user_id: str, inserts: list[str]
) -> None:
    _hold(db_session, user_id)
    assert inserts == []
    assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 2
    assert len(inserts) == 1


def test_a_core_statement_through_the_session_runs_after_the_held_rows(
    db_session: Session, user_id: str
) -> None:
    # No ORM entity in it, so no autoflush: the session's execute hook sends the rows.
    _hold(db_session, user_id)
    count = select(func.count()).select_from(Notification.__table__)
    assert (
        db_session.execute(count.where(Notification.__table__.c.kind == "probe.held")).scalar() == 2
    )


def test_a_savepoint_starts_after_the_held_rows(db_session: Session, user_id: str) -> None:
    _hold(db_session, user_id)
    with db_session.begin_nested() as savepoint:
        assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 2
        savepoint.rollback()  # the rows were not the savepoint's: they stay
    assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 2


def test_a_rollback_discards_the_held_rows(db_session: Session, user_id: str) -> None:
    db_session.commit()
    _hold(db_session, user_id)
    db_session.rollback()
    assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 0


def test_a_held_record_changed_through_the_orm_is_inserted_then_updated(
    db_session: Session, user_id: str
) -> None:
    (record,) = insert_records(db_session, Notification, [_notification(user_id)], held=True)
    record.title = "Changed"
    db_session.flush()  # the held row goes first, so the UPDATE finds it
    db_session.expire_all()
    assert db_session.scalar(select(Notification.title).where(Notification.id == record.id)) == (
        "Changed"
    )


def test_held_rows_of_several_tables_go_in_one_statement_on_postgresql(
    db_session: Session, user_id: str, inserts: list[str]
) -> None:
    _hold(db_session, user_id, count=3)
    db_session.hold_rows(AuditEntry.__table__, [_audit(n) for n in range(2)])  # type: ignore[attr-defined]
    db_session.commit()
    assert len(inserts) == (1 if is_postgres() else 2)
    assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 3
    stored = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "probe.held"))
    assert sorted((row.record_id, row.details) for row in stored) == [
        ("0", {"n": 0}),
        ("1", {"n": 1}),
    ]


def test_inserting_into_tables_keeps_each_rows_values(db_session: Session, user_id: str) -> None:
    first, second = _notification(user_id, "probe.first"), _notification(user_id, "probe.second")
    insert_into_tables(
        db_session,
        {Notification.__table__: [first, second], AuditEntry.__table__: [_audit(7)]},  # type: ignore[dict-item]
    )
    kinds = db_session.execute(
        select(Notification.id, Notification.kind, Notification.created_at).where(
            Notification.user_id == user_id
        )
    ).all()
    assert sorted((row.id, row.kind, row.created_at) for row in kinds) == sorted(
        (row["id"], row["kind"], row["created_at"]) for row in (first, second)
    )
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "probe.held")).one()
    assert (audit.record_id, audit.details) == ("7", {"n": 7})


_RENAME_USER = DirectStatement(
    update(User.__table__)  # type: ignore[arg-type]
    .where(User.__table__.c.id == bindparam("user_id"))
    .values(display_name=bindparam("name"), updated_at=bindparam("now")),
    carries_held_rows=True,
)


def test_a_write_that_carries_held_rows_takes_them_along_on_postgresql(
    db_session: Session, user_id: str, inserts: list[str]
) -> None:
    _hold(db_session, user_id)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        touched = _RENAME_USER.run(
            db_session, {"user_id": user_id, "name": "Renamed", "now": utcnow()}
        )
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert touched == 1  # the UPDATE's own count, not the rows it carried
    assert len(statements) == (1 if is_postgres() else 2)
    assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 2
    name = select(User.display_name).where(User.id == user_id)
    assert db_session.execute(name).scalar() == "Renamed"


def test_a_carrying_write_is_refused_as_it_would_be_alone(
    db_session: Session, user_id: str
) -> None:
    needs_onupdate = DirectStatement(
        update(User.__table__)  # type: ignore[arg-type]
        .where(User.__table__.c.id == bindparam("user_id"))
        .values(display_name=bindparam("name")),  # updated_at's onupdate is computed in Python
        carries_held_rows=True,
    )
    _hold(db_session, user_id)
    with pytest.raises(NotDirect):
        needs_onupdate.run(db_session, {"user_id": user_id, "name": "Renamed"})


_USER_NAMES = RowUpdate(User.__table__, "id", ("display_name",))  # type: ignore[arg-type]


def test_held_updates_go_with_the_held_inserts_and_keep_onupdate_columns(
    db_session: Session, user_id: str
) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    before = db_session.execute(select(User.updated_at).where(User.id == user_id)).scalar()
    _hold(db_session, user_id)
    db_session.hold_rows(_USER_NAMES, [{"id": user_id, "display_name": "Held name"}])  # type: ignore[attr-defined]
    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        db_session.commit()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    writes = [sql for sql in statements if "INSERT" in sql or "UPDATE" in sql]
    assert len(writes) == (1 if is_postgres() else 2)
    named = db_session.execute(select(User.display_name, User.updated_at).where(User.id == user_id))
    assert tuple(named.one()) == ("Held name", before)
    assert _COUNT_NOTIFICATIONS.first(db_session, {"kind": "probe.held"})[0] == 2


def test_held_updates_alone_are_made_and_a_rollback_discards_them(
    db_session: Session, user_id: str
) -> None:
    db_session.hold_rows(_USER_NAMES, [{"id": user_id, "display_name": "Kept"}])  # type: ignore[attr-defined]
    db_session.commit()
    db_session.hold_rows(_USER_NAMES, [{"id": user_id, "display_name": "Discarded"}])  # type: ignore[attr-defined]
    db_session.rollback()
    name = select(User.display_name).where(User.id == user_id)
    assert db_session.execute(name).scalar() == "Kept"


def test_a_later_held_update_of_a_row_takes_the_place_of_the_earlier(
    db_session: Session, user_id: str
) -> None:
    other = build_user(db_session)
    db_session.flush()
    insert_or_hold_rows(db_session, _USER_NAMES, [{"id": user_id, "display_name": "First"}])
    insert_or_hold_rows(db_session, _USER_NAMES, [{"id": other.id, "display_name": "Other"}])
    insert_or_hold_rows(db_session, _USER_NAMES, [{"id": user_id, "display_name": "Second"}])
    assert db_session.info["held_rows"][_USER_NAMES] == [
        {"id": user_id, "display_name": "Second"},
        {"id": other.id, "display_name": "Other"},
    ]
    db_session.commit()
    names = select(User.id, User.display_name).where(User.id.in_([user_id, other.id]))
    assert {row.id: row.display_name for row in db_session.execute(names)} == {
        user_id: "Second",
        other.id: "Other",
    }
