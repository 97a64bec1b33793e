"""The work with each person: their vocational profile, disclosure discussions (kept as a
history) and benefits (work-incentive) planning sessions using the dated UC rates."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain_errors import NotFound, RuleViolation
from app.money import money
from app.pagination import Page, PageRequest
from app.versioning import check_if_match
from auth.actor import Actor
from employment.access import require_managed_referral, require_visible_referral
from employment.models import BenefitsPlanningSession, DisclosureDiscussion, VocationalProfile
from employment.rates import estimate_uc_reduction
from employment.trail import audit, page_of_referral_records


def get_profile(session: Session, *, actor: Actor, referral_id: str) -> VocationalProfile:
    """The person's vocational profile."""
    referral = require_visible_referral(session, actor, referral_id)
    profile = session.scalars(
        select(VocationalProfile).where(VocationalProfile.referral_id == referral.id)
    ).first()
    if profile is None:
        raise NotFound("No vocational profile has been written yet.")
    audit(
        session,
        actor=actor,
        action="profile.read",
        record_type="ips_vocational_profile",
        record_id=profile.id,
        person_id=referral.person_id,
    )
    session.commit()
    return profile


def write_profile(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    if_match: list[str] | None,
    fields: dict[str, Any],
) -> tuple[VocationalProfile, bool]:
    """Write (or rewrite, with If-Match) the person's vocational profile."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    profile = session.scalars(
        select(VocationalProfile).where(VocationalProfile.referral_id == referral.id)
    ).first()
    created = profile is None
    if profile is None:
        profile = VocationalProfile(referral_id=referral.id)
        session.add(profile)
    else:
        check_if_match(if_match, profile.id, profile.version)
        profile.version += 1
    for name, value in fields.items():
        setattr(profile, name, value)
    session.flush()
    audit(
        session,
        actor=actor,
        action="profile.write",
        record_type="ips_vocational_profile",
        record_id=profile.id,
        person_id=referral.person_id,
        created=created,
    )
    session.commit()
    return profile, created


def record_disclosure(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    discussed_on: date,
    decision: str,
    approach: str | None,
) -> DisclosureDiscussion:
    """Record a conversation about disclosing the condition to employers (history is kept)."""
    referral = require_managed_referral(session, actor, referral_id)
    discussion = DisclosureDiscussion(
        referral_id=referral.id,
        discussed_on=discussed_on,
        decision=decision,
        approach=approach,
        recorded_by_user_id=actor.user_id,
    )
    session.add(discussion)
    session.flush()
    audit(
        session,
        actor=actor,
        action="disclosure.create",
        record_type="ips_disclosure",
        record_id=discussion.id,
        person_id=referral.person_id,
        decision=decision,
    )
    session.commit()
    return discussion


def list_disclosures(
    session: Session, *, actor: Actor, referral_id: str, page: PageRequest
) -> Page[DisclosureDiscussion]:
    """Every disclosure discussion, most recently recorded first."""
    return page_of_referral_records(
        session,
        actor=actor,
        referral_id=referral_id,
        model=DisclosureDiscussion,
        action="disclosure.list",
        page=page,
    )


def describe_benefits_session(record: BenefitsPlanningSession) -> dict[str, Any]:
    def as_money(amount: int | None) -> dict[str, Any] | None:
        return None if amount is None else money(amount, record.currency)

    return {
        "id": record.id,
        "referral_id": record.referral_id,
        "held_on": record.held_on,
        "trigger": record.trigger,
        "planned_monthly_earnings": as_money(record.planned_monthly_earnings_pence),
        "has_work_allowance": record.has_work_allowance,
        "housing_costs_in_uc": record.housing_costs_in_uc,
        "work_allowance": as_money(record.work_allowance_pence),
        "taper_basis_points": record.taper_basis_points,
        "estimated_uc_reduction": as_money(record.estimated_uc_reduction_pence),
    }


def record_benefits_session(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    held_on: date,
    trigger: str,
    planned_monthly_earnings: dict[str, Any] | None,
    has_work_allowance: bool | None,
    housing_costs_in_uc: bool | None,
) -> dict[str, Any]:
    """Record benefits planning (before a start, or a change of hours or pay), with an estimate."""
    referral = require_managed_referral(session, actor, referral_id)
    record = BenefitsPlanningSession(
        referral_id=referral.id,
        held_on=held_on,
        trigger=trigger,
        has_work_allowance=has_work_allowance,
        housing_costs_in_uc=housing_costs_in_uc,
    )
    if planned_monthly_earnings is not None:
        earnings = int(planned_monthly_earnings["amount"])
        if earnings < 0:
            raise RuleViolation("negative-earnings", "Planned earnings cannot be negative.")
        record.planned_monthly_earnings_pence = earnings
        record.currency = planned_monthly_earnings["currency"]
        estimate = estimate_uc_reduction(
            session,
            on=held_on,
            monthly_earnings_pence=earnings,
            has_work_allowance=bool(has_work_allowance),
            housing_costs_in_uc=bool(housing_costs_in_uc),
        )
        if estimate is not None:
            record.work_allowance_pence = estimate.work_allowance_pence
            record.taper_basis_points = estimate.taper_basis_points
            record.estimated_uc_reduction_pence = estimate.reduction_pence
    session.add(record)
    session.flush()
    audit(
        session,
        actor=actor,
        action="benefits_session.create",
        record_type="ips_benefits_session",
        record_id=record.id,
        person_id=referral.person_id,
        trigger=trigger,
    )
    session.commit()
    return describe_benefits_session(record)


def list_benefits_sessions(
    session: Session, *, actor: Actor, referral_id: str, page: PageRequest
) -> dict[str, Any]:
    """The person's benefits planning sessions, most recently recorded first."""
    result = page_of_referral_records(
        session,
        actor=actor,
        referral_id=referral_id,
        model=BenefitsPlanningSession,
        action="benefits_session.list",
        page=page,
    )
    return {
        "items": [describe_benefits_session(r) for r in result.items],
        "next_cursor": result.next_cursor,
    }
