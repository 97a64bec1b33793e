"""Stored notifications."""

from __future__ import annotations

from sqlalchemy import select

from app.notifications import Notification, notify
from tests.builders import build_user


def test_notify_stores_one_unread_message_per_user(db_session) -> None:  # type: ignore[no-untyped-def]
    a, b = build_user(db_session), build_user(db_session)
    notify(
        db_session,
        user_ids=[a.id, b.id, a.id],
        kind="plan_decided",
        title="Your plan was approved",
        record_type="plan",
        record_id="p1",
    )
    db_session.flush()
    rows = db_session.scalars(select(Notification).where(Notification.record_id == "p1")).all()
    assert sorted(r.user_id for r in rows) == sorted([a.id, b.id])
    assert all(r.read_at is None and r.kind == "plan_decided" for r in rows)
