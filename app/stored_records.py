"""ORM records written as plain statements (app/direct_sql.py) and kept in the session as
stored: callers and response schemas get the mapped class they expect, without the unit
of work's cost for the write, which under callgrind is several times the statement's own.

A record these helpers return is persistent in the session with the values the database
now holds, so a later ORM change to it still flushes as an UPDATE.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.db import WorkSession
from app.direct_sql import DirectStatement, HeldTarget, RowUpdate, insert_rows, write_rows

_Record = TypeVar("_Record")


def record_of(model: type[_Record], values: Mapping[str, Any]) -> _Record:
    """A new (transient) instance of `model` holding `values`, built as the ORM builds
    one from a row it loads: without `__init__`'s change events, one per attribute, which
    cost a 16-column record 18 microseconds against 1."""
    record: _Record = class_mapper(model).class_manager.new_instance()
    record.__dict__.update(values)
    return record


def stored_record(session: Session, model: type[_Record], values: Mapping[str, Any]) -> _Record:
    """The record of `model` with these column values (every column), as stored: the
    session's own instance, brought up to date, if it holds one already."""
    existing = session.identity_map.get(session.identity_key(model, values["id"]))
    if existing is not None:
        for name, value in values.items():
            set_committed_value(existing, name, value)
        return existing
    return _added_as_stored(session, model, values)


def _added_as_stored(session: Session, model: type[_Record], values: Mapping[str, Any]) -> _Record:
    record = record_of(model, values)
    make_transient_to_detached(record)
    session.add(record)
    return record


def insert_records(
    session: Session, model: type[_Record], rows: list[dict[str, Any]], *, held: bool = False
) -> list[_Record]:
    """Insert rows of `model` (every column given) in one statement, as `insert_rows`
    does, and return them as stored records. `held`: where the session can, the rows wait
    for its next statement (`WorkSession.hold_rows`), to go with the use case's other
    last writes."""
    table = model.__table__  # type: ignore[attr-defined]
    if held:
        insert_or_hold_rows(session, table, rows)
    else:
        session.flush()  # as the ORM's autoflush would: pending changes go first
        insert_rows(session, table, rows)
    # Rows just inserted: the session cannot hold a record with their ids already.
    return [_added_as_stored(session, model, row) for row in rows]


def insert_or_hold_rows(session: Session, target: HeldTarget, rows: list[dict[str, Any]]) -> None:
    """Rows (every column given, or a `RowUpdate`'s) held to the session's next statement
    where it can hold them (`WorkSession.hold_rows`), else written now; pending ORM
    changes go first."""
    if isinstance(session, WorkSession) and session.holds_rows():
        session.flush_changes()  # as the ORM's autoflush would
        session.hold_rows(target, rows, key=target.key if isinstance(target, RowUpdate) else None)
    else:
        session.flush()  # as the ORM's autoflush would
        write_rows(session, target, rows)


@functools.cache
def _update_of(table: Table, columns: tuple[str, ...]) -> DirectStatement:
    return DirectStatement(
        update(table)
        .where(table.c.id == bindparam("where_id"))
        .values({name: bindparam(name) for name in columns})
    )


def update_record(session: Session, record: Any, changes: dict[str, Any]) -> None:
    """Write `changes` to one stored record's row by its id, in one statement on the
    cursor, and set them on the record as stored. Columns with an onupdate value
    (`updated_at`) must be among the changes: DirectStatement refuses to compute them."""
    session.flush()  # as the ORM's autoflush would: pending changes go first
    _update_of(record.__table__, tuple(sorted(changes))).run(
        session, {**changes, "where_id": record.id}
    )
    for name, value in changes.items():
        set_committed_value(record, name, value)
