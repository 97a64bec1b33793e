"""The trail every IPS use case leaves: an audit row for each read or change of a person's
employment record, and who to tell about it (the person and their representatives)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from auth.actor import Actor
from auth.models import Representation, User


def audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: str | None,
    person_id: str | None = None,
    **details: Any,
) -> None:
    """Add an audit row for an IPS read or change (structured facts only, never free text)."""
    record_audit(
        session,
        actor=actor,
        action=f"ips.{action}",
        record_type=record_type,
        record_id=record_id,
        subject_person_id=person_id,
        details=details or None,
    )


def person_user_ids(session: Session, person_id: str) -> list[str]:
    """The logins that hear about a person's IPS journey: their own and their representatives'."""
    own = session.scalars(select(User.id).where(User.person_id == person_id)).all()
    representatives = session.scalars(
        select(Representation.representative_id).where(
            Representation.person_id == person_id, Representation.ended_at.is_(None)
        )
    ).all()
    return [*own, *representatives]
