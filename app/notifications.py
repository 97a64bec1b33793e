"""Stored notifications: what each user should hear about (plan decided, booking accepted,
claim to confirm, payment made, IPS appointment...).

Domains call `notify` in the same transaction as the change that caused it. The mobile
contract's feed reads them, and a push sender delivers them to registered devices.
Titles and bodies are short and say nothing clinical: the app opens the record for detail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, IdMixin, new_id, utcnow
from app.stored_records import insert_records


class Notification(IdMixin, Base):
    """One message for one user, read or unread."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_id_updated_at_id", "user_id", "updated_at", "id"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000), default="")
    record_type: Mapped[str | None] = mapped_column(String(48))
    record_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Last change (created, read or unread again): the feed's delta sync key.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def notify(
    session: Session,
    *,
    user_ids: Iterable[str],
    kind: str,
    title: str,
    body: str = "",
    record_type: str | None = None,
    record_id: str | None = None,
) -> list[Notification]:
    """Add a notification for each user (deduplicated) in the caller's transaction, which
    stores them when it commits. Returns them as records of the session.

    Written as plain rows (every booking, claim and decision notifies someone, and the
    ORM's unit of work costs more than the INSERT), held to the session's next statement
    to go with the use case's other last writes, and attached to the session as already
    stored, so a later change to one is flushed as an UPDATE (after the rows).
    """
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "user_id": user_id,
            "kind": kind,
            "title": title,
            "body": body,
            "record_type": record_type,
            "record_id": record_id,
            "created_at": now,
            "read_at": None,
            "updated_at": now,
        }
        for user_id in dict.fromkeys(user_ids)
    ]
    return insert_records(session, Notification, rows, held=True)
