"""Records written as plain statements (app/stored_records.py) are the session's stored
records: what the database holds, and later ORM changes to them flush as UPDATEs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_id
from app.direct_sql import NotDirect
from app.notifications import Notification
from app.stored_records import insert_records, record_of, stored_record, update_record
from tests.builders import build_user

_WHEN = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def _row(user_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "user_id": user_id,
        "kind": "probe",
        "title": "Stored",
        "body": "",
        "record_type": None,
        "record_id": None,
        "created_at": _WHEN,
        "read_at": None,
        "updated_at": _WHEN,
        **overrides,
    }


def _stored_title(session: Session, notification_id: str) -> str | None:
    session.expire_all()
    return session.scalar(select(Notification.title).where(Notification.id == notification_id))


def test_inserted_records_are_stored_and_later_changes_flush_as_updates(
    db_session: Session,
) -> None:
    user = build_user(db_session)
    first, second = insert_records(
        db_session, Notification, [_row(user.id), _row(user.id, title="Other")]
    )
    assert first in db_session and not db_session.dirty and not db_session.new
    first.title = "Changed"
    db_session.flush()
    assert _stored_title(db_session, first.id) == "Changed"
    assert _stored_title(db_session, second.id) == "Other"


def test_a_record_the_session_holds_is_brought_up_to_date_not_duplicated(
    db_session: Session,
) -> None:
    user = build_user(db_session)
    (held,) = insert_records(db_session, Notification, [_row(user.id)])
    again = stored_record(db_session, Notification, {**_row(user.id), "id": held.id, "title": "X"})
    assert again is held and held.title == "X" and not db_session.dirty


def test_update_record_writes_the_row_and_leaves_nothing_to_flush(db_session: Session) -> None:
    user = build_user(db_session)
    (record,) = insert_records(db_session, Notification, [_row(user.id)])
    later = datetime(2026, 6, 1, tzinfo=UTC)
    update_record(db_session, record, {"title": "Updated", "read_at": later, "updated_at": later})
    assert record.title == "Updated" and record.read_at == later
    assert not db_session.dirty  # set as stored: no second UPDATE pending
    assert _stored_title(db_session, record.id) == "Updated"


def test_update_record_refuses_to_leave_an_onupdate_column_behind(db_session: Session) -> None:
    user = build_user(db_session)
    (record,) = insert_records(db_session, Notification, [_row(user.id)])
    with pytest.raises(NotDirect):
        update_record(db_session, record, {"title": "No timestamp"})


def test_a_record_built_from_values_is_new_until_added(db_session: Session) -> None:
    user = build_user(db_session)
    values = _row(user.id, title="Built")
    record = record_of(Notification, values)
    assert (record.id, record.title, record.read_at) == (values["id"], "Built", None)
    assert record not in db_session
    db_session.add(record)
    db_session.flush()  # a transient record: added, it is inserted like any new one
    assert _stored_title(db_session, values["id"]) == "Built"
