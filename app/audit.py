"""The append-only audit log: who did what to which record, for whom, and when.

Services call `record_audit` in the same transaction as the change (or the read), so a
change is never committed without its audit row. Rows are never updated or deleted by the
application; on PostgreSQL a trigger refuses it (see the migration).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from flask import has_request_context, request
from sqlalchemy import JSON, Index, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import STANDS_ALONE, Base, IdMixin, WorkSession, new_id, utcnow
from app.direct_sql import insert_rows
from app.request_context import current_request_id


class AuditActor(Protocol):
    """Whoever is acting: a signed-in user, or a confidential client with no user."""

    @property
    def user_id(self) -> str | None: ...

    @property
    def client_id(self) -> str | None: ...


class AuditEntry(IdMixin, Base):
    """One audited read or change."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject_person_id_occurred_at", "subject_person_id", "occurred_at"),
        Index("ix_audit_entries_record", "record_type", "record_id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    actor_client_id: Mapped[str | None] = mapped_column(String(64))
    subject_person_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    # Structured facts only (ids, states, amounts); never free text from users.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


_INSERT_AUDIT_ROWS = insert(AuditEntry.__table__)  # type: ignore[arg-type]
# A read's audit row records something that has happened: nothing can undo it, so it
# need not wait for (or pay for) a transaction.
_INSERT_READ_AUDIT_ROWS = _INSERT_AUDIT_ROWS.execution_options(**{STANDS_ALONE: True})


def _insert(session: Session, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
    reading = has_request_context() and request.method in ("GET", "HEAD")
    if (
        isinstance(rows, dict)
        and not reading
        and isinstance(session, WorkSession)
        and session.holds_rows()
    ):
        # A change's audit rows commit with it: held back to the session's next statement,
        # they go with the use case's other last writes (a booking's are one statement).
        session.hold_rows(AuditEntry.__table__, [rows])
        return
    session.flush()  # as the ORM's autoflush would: pending changes go first
    if isinstance(rows, dict):  # nearly every audited read: on the cursor
        insert_rows(session, AuditEntry.__table__, [rows], stands_alone=reading)  # type: ignore[arg-type]
        return
    statement = _INSERT_READ_AUDIT_ROWS if reading else _INSERT_AUDIT_ROWS
    session.connection().execute(statement, rows)


def record_audit(
    session: Session,
    *,
    actor: AuditActor | None,
    action: str,
    record_type: str,
    record_id: str | None,
    subject_person_id: str | None = None,
    details: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> str:
    """Write an audit row in the session's transaction; the caller's commit makes it
    durable (and a rollback takes it away with the change). Returns the row's id. In a
    GET or HEAD before any change, the read's row commits by itself (app/db.py).

    A plain INSERT on the cursor rather than an ORM object: every audited request runs
    this, and the ORM's bookkeeping costs more than the statement. A read's row is
    inserted at once, after pending ORM changes, so a read that also wrote (a due
    release) audits inside that write's transaction instead of committing ahead of it.
    A change's row waits for the session's next statement (`WorkSession.hold_rows`), so
    the rows of one use case go in one statement.
    """
    row = _audit_row(actor, action, record_type, record_id, subject_person_id, details)
    if occurred_at is not None:
        row["occurred_at"] = occurred_at
    _insert(session, row)
    return str(row["id"])


def record_audit_of_each(
    session: Session,
    *,
    actor: AuditActor | None,
    action: str,
    record_type: str,
    records: Iterable[tuple[str, str | None]],
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row per (record id, subject person id), for a page of records read
    together, written in one statement whatever the page size."""
    rows = [
        _audit_row(actor, action, record_type, record_id, subject_person_id, details)
        for record_id, subject_person_id in records
    ]
    if rows:
        _insert(session, rows)


def _audit_row(
    actor: AuditActor | None,
    action: str,
    record_type: str,
    record_id: str | None,
    subject_person_id: str | None,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "occurred_at": utcnow(),
        "actor_user_id": getattr(actor, "user_id", None),
        "actor_client_id": getattr(actor, "client_id", None),
        "subject_person_id": subject_person_id,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "request_id": current_request_id.get(),
        "details": details,
    }
