"""Job-outcome rules (a funder's definition, as data) and IPS-25 fidelity reviews, with the
items the records can measure pre-filled for the reviewer to confirm."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain_errors import Conflict, RuleViolation, ValidationFailed
from app.pagination import PageRequest, keyset_page
from auth.actor import Actor
from employment.access import require_metrics_access
from employment.metrics.service import compute_metrics
from employment.models import Contact, FidelityReview, Job, OutcomeRule, Referral
from employment.rules import FIDELITY_ITEMS, fidelity_band
from employment.trail import audit


def add_outcome_rule(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    name: str,
    min_hours_per_week: float,
    weeks_required: int,
    within_weeks: int,
    min_hourly_pay: dict[str, Any] | None,
    requires_minimum_wage: bool,
) -> OutcomeRule:
    """Add a funder's job-outcome definition (e.g. 16 h/week for 26 weeks) to a service."""
    service = require_metrics_access(session, actor, service_id)
    if weeks_required > within_weeks:
        raise ValidationFailed({"weeks_required": ["Cannot exceed within_weeks."]})
    taken = session.scalar(
        select(OutcomeRule.id).where(OutcomeRule.service_id == service.id, OutcomeRule.name == name)
    )
    if taken:
        raise Conflict("This service already has an outcome rule with that name.")
    rule = OutcomeRule(
        service_id=service.id,
        name=name,
        min_hours_per_week=Decimal(str(min_hours_per_week)).quantize(Decimal("0.01")),
        weeks_required=weeks_required,
        within_weeks=within_weeks,
        min_hourly_pay_pence=int(min_hourly_pay["amount"]) if min_hourly_pay else None,
        requires_minimum_wage=requires_minimum_wage,
    )
    session.add(rule)
    session.flush()
    audit(
        session,
        actor=actor,
        action="outcome_rule.create",
        record_type="ips_outcome_rule",
        record_id=rule.id,
    )
    session.commit()
    return rule


def list_outcome_rules(
    session: Session, *, actor: Actor, service_id: str, page: PageRequest
) -> Any:
    """The service's job-outcome rules."""
    service = require_metrics_access(session, actor, service_id)
    return keyset_page(
        session,
        select(OutcomeRule).where(OutcomeRule.service_id == service.id),
        keys=[OutcomeRule.id],
        page=page,
        scope=f"ips-outcome-rules:{service.id}",
    )


def _score(
    value: float | None, bands: list[tuple[float, int]], *, higher_is_better: bool
) -> int | None:
    """Score 1-5 from (threshold, score) bands, best band first."""
    if value is None:
        return None
    for threshold, score in bands:
        if (value >= threshold) if higher_is_better else (value <= threshold):
            return score
    return 1


def prefill(session: Session, *, actor: Actor, service_id: str, as_of: date) -> dict[str, Any]:
    """IPS-25 items the records can measure over the 12 months to `as_of`, for a reviewer."""
    service = require_metrics_access(session, actor, service_id)
    start = as_of - timedelta(days=364)
    metrics = compute_metrics(session, service=service, period_start=start, period_end=as_of)
    jobs = session.execute(
        select(func.count(), func.count().filter(Job.is_competitive.is_(True)))
        .select_from(Job)
        .join(Referral, Referral.id == Job.referral_id)
        .where(Referral.service_id == service.id, Job.start_date >= start, Job.start_date <= as_of)
    ).one()
    meetings = session.execute(
        select(func.count(), func.count().filter(Contact.setting == "community"))
        .select_from(Contact)
        .join(Referral, Referral.id == Contact.referral_id)
        .where(
            Referral.service_id == service.id,
            Contact.with_whom == "person",
            Contact.mode == "in_person",
            Contact.occurred_on >= start,
            Contact.occurred_on <= as_of,
        )
    ).one()
    competitive_share = jobs[1] / jobs[0] if jobs[0] else None
    community_share = meetings[1] / meetings[0] if meetings[0] else None
    per_fte = metrics["caseload"]["active_per_fte"]
    mean_days = metrics["rapid_job_search"]["mean_days"]
    contacts = metrics["employer_contacts"]["per_specialist_per_week"]
    items = {
        "1": (
            "Caseload size: active people per full-time specialist",
            per_fte,
            _score(per_fte, [(20, 5), (25, 4), (30, 3), (40, 2)], higher_is_better=False),
        ),
        "15": (
            "Rapid job search: mean days to first face-to-face employer contact",
            mean_days,
            _score(mean_days, [(30, 5), (60, 4), (150, 3), (270, 2)], higher_is_better=False),
        ),
        "17": (
            "Job development: face-to-face employer contacts per specialist per week",
            contacts,
            _score(contacts, [(6, 5), (5, 4), (3, 3), (2, 2)], higher_is_better=True),
        ),
        "21": (
            "Competitive jobs: share of job starts that are competitive",
            competitive_share,
            _score(
                competitive_share,
                [(0.95, 5), (0.85, 4), (0.75, 3), (0.65, 2)],
                higher_is_better=True,
            ),
        ),
        "24": (
            "Community-based services: share of in-person meetings in the community",
            community_share,
            _score(
                community_share, [(0.65, 5), (0.5, 4), (0.4, 3), (0.3, 2)], higher_is_better=True
            ),
        ),
    }
    audit(
        session,
        actor=actor,
        action="fidelity.prefill",
        record_type="ips_service",
        record_id=service.id,
    )
    session.commit()
    return {
        "service_id": service.id,
        "period": {"start": start, "end": as_of},
        "items": [
            {"item": int(k), "measure": label, "value": value, "suggested_score": score}
            for k, (label, value, score) in items.items()
        ],
    }


def record_review(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    reviewed_on: date,
    reviewer_name: str,
    scores: dict[str, int],
) -> FidelityReview:
    """Record an IPS-25 fidelity review: 25 items scored 1-5, the total and its band."""
    service = require_metrics_access(session, actor, service_id)
    expected = {str(i) for i in range(1, FIDELITY_ITEMS + 1)}
    if set(scores) != expected:
        raise RuleViolation("fidelity-items", "Score every one of the 25 items, numbered 1 to 25.")
    total = sum(scores.values())
    review = FidelityReview(
        service_id=service.id,
        reviewed_on=reviewed_on,
        reviewer_name=reviewer_name,
        scores={k: scores[k] for k in sorted(scores, key=int)},
        total=total,
        band=fidelity_band(total),
        recorded_by_user_id=actor.user_id,
    )
    session.add(review)
    session.flush()
    audit(
        session,
        actor=actor,
        action="fidelity.create",
        record_type="ips_fidelity_review",
        record_id=review.id,
        total=total,
    )
    session.commit()
    return review


def list_reviews(session: Session, *, actor: Actor, service_id: str, page: PageRequest) -> Any:
    """The service's fidelity reviews, newest first."""
    service = require_metrics_access(session, actor, service_id)
    return keyset_page(
        session,
        select(FidelityReview).where(FidelityReview.service_id == service.id),
        keys=[FidelityReview.id],
        page=page,
        descending=True,
        scope=f"ips-fidelity:{service.id}",
    )
