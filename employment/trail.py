"""The trail every IPS use case leaves: an audit row for each read or change of a person's
employment record, and who to tell about it (the person and their representatives)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.audit import record_audit, record_audit_of_each
from app.pagination import Page, PageRequest, keyset_page
from auth.actor import Actor
from auth.models import Representation, User
from employment.access import require_visible_referral


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


def audit_each(
    session: Session,
    *,
    actor: Actor,
    action: str,
    record_type: str,
    records: Sequence[tuple[str, str | None]],
) -> None:
    """`audit` for a page of records read together: one row each, one statement."""
    record_audit_of_each(
        session, actor=actor, action=f"ips.{action}", record_type=record_type, records=records
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


def page_of_referral_records(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    model: Any,
    action: str,
    page: PageRequest,
    keys: Sequence[InstrumentedAttribute[Any]] | None = None,
    descending: bool = True,
) -> Page[Any]:
    """One page of a referral's records of one kind (newest first), audited as a read."""
    referral = require_visible_referral(session, actor, referral_id)
    result = keyset_page(
        session,
        select(model).where(model.referral_id == referral.id),
        keys=keys or [model.id],
        page=page,
        descending=descending,
        scope=f"ips-{model.__tablename__}:{referral.id}",
    )
    audit(
        session,
        actor=actor,
        action=action,
        record_type="ips_referral",
        record_id=referral.id,
        person_id=referral.person_id,
        count=len(result.items),
    )
    session.commit()
    return result
