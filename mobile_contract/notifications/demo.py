"""Demo notifications so the feed has something to show after `make run` (idempotent)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.notifications import Notification, notify
from auth.models import User

DEMO_NOTIFICATIONS = [
    ("plan_decided", "Your plan was approved", "Your support plan is approved. Tap to see it."),
    ("booking_accepted", "Bright Days Care accepted your booking", "Your first visit is booked."),
    ("claim_to_confirm", "Please confirm a visit", "Did your support session on Tuesday happen?"),
]


def seed_notifications(session: Session) -> None:
    """Give the demo person a few notifications, once (the caller commits)."""
    person = session.scalars(select(User).where(User.email == "person@demo.example")).first()
    if person is None:
        return
    existing = session.scalars(
        select(Notification.id).where(Notification.user_id == person.id).limit(1)
    ).first()
    if existing is not None:
        return
    for kind, title, body in DEMO_NOTIFICATIONS:
        notify(session, user_ids=[person.id], kind=kind, title=title, body=body)
