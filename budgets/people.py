"""Who should hear about a person's budget: their own login and their representatives."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.models import Representation, User


def person_user_ids(session: Session, person_id: str) -> list[str]:
    """The users who hold this person's records: the person and active representatives."""
    own = session.scalars(select(User.id).where(User.person_id == person_id)).all()
    representatives = session.scalars(
        select(Representation.representative_id).where(
            Representation.person_id == person_id, Representation.ended_at.is_(None)
        )
    ).all()
    return [*own, *representatives]
