"""Service measures for a period (whole service and per specialist), exported as JSON or
CSV, for the staff running the service and the admins of the commissioner funding it."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain_errors import ValidationFailed
from auth.actor import Actor
from auth.models import User
from employment.access import require_metrics_access
from employment.jobs.follow_along import last_support_dates
from employment.metrics.measures import (
    Facts,
    JobFacts,
    OutcomeRuleFacts,
    Period,
    ReferralFacts,
    SpecialistFacts,
    service_measures,
)
from employment.models import (
    Contact,
    EmployerContact,
    EmployerContactPerson,
    EmploymentSpecialist,
    IpsService,
    Job,
    OutcomeRule,
    Referral,
)
from employment.trail import audit

MAX_PERIOD = timedelta(days=5 * 366)


def _period(start: date, end: date) -> Period:
    if end < start:
        raise ValidationFailed({"period_end": ["Must be on or after period_start."]})
    if end - start > MAX_PERIOD:
        raise ValidationFailed({"period_end": ["A period can be at most five years."]})
    return Period(start, end)


def _referral_facts(session: Session, service: IpsService, end: date) -> list[ReferralFacts]:
    # Plain rows, not ORM objects, and sub-selects, not lists of ids as parameters: a
    # service holds thousands of referrals and this runs on every metrics read.
    of_service = select(Referral.id).where(Referral.service_id == service.id)
    referrals = session.execute(
        select(
            Referral.id,
            Referral.specialist_id,
            Referral.in_work_at_referral,
            Referral.accepted_on,
            Referral.first_contact_on,
            Referral.discharged_on,
        ).where(Referral.service_id == service.id)
    ).all()
    first_employer: dict[str, date] = {}
    for referral_id, occurred_on, accepted_on in session.execute(
        select(EmployerContactPerson.referral_id, EmployerContact.occurred_on, Referral.accepted_on)
        .join(EmployerContact, EmployerContact.id == EmployerContactPerson.employer_contact_id)
        .join(Referral, Referral.id == EmployerContactPerson.referral_id)
        .where(Referral.service_id == service.id, EmployerContact.face_to_face.is_(True))
    ):
        if accepted_on is not None and occurred_on >= accepted_on:
            first_employer[referral_id] = min(
                first_employer.get(referral_id, date.max), occurred_on
            )
    last_direct: dict[str, date] = {
        referral_id: day
        for referral_id, day in session.execute(
            select(Contact.referral_id, func.max(Contact.occurred_on))
            .where(
                Contact.referral_id.in_(of_service),
                Contact.with_whom == "person",
                Contact.occurred_on <= end,
            )
            .group_by(Contact.referral_id)
        )
    }
    return [
        ReferralFacts(
            id=r.id,
            specialist_id=r.specialist_id,
            in_work_at_referral=r.in_work_at_referral,
            accepted_on=r.accepted_on,
            first_contact_on=r.first_contact_on,
            discharged_on=r.discharged_on,
            first_employer_contact_on=first_employer.get(r.id),
            last_direct_contact_on=last_direct.get(r.id),
        )
        for r in referrals
    ]


def _job_facts(session: Session, service: IpsService, end: date) -> list[JobFacts]:
    jobs = session.scalars(
        select(Job)
        .join(Referral, Referral.id == Job.referral_id)
        .where(Referral.service_id == service.id)
    ).all()
    support = last_support_dates(session, [j.id for j in jobs], end)
    return [
        JobFacts(
            id=j.id,
            referral_id=j.referral_id,
            start_date=j.start_date,
            hours_per_week=Decimal(j.hours_per_week),
            hourly_pay_pence=j.hourly_pay_pence,
            minimum_wage_pence=j.minimum_wage_pence,
            counts_as_job=j.is_competitive or j.is_self_employment,
            four_paid_hours_on=j.four_paid_hours_on,
            end_date=j.end_date,
            last_support_on=support.get(j.id),
        )
        for j in jobs
    ]


def _specialist_facts(
    session: Session, service: IpsService, period: Period
) -> tuple[list[SpecialistFacts], dict[str, str]]:
    specialists = session.scalars(
        select(EmploymentSpecialist).where(
            EmploymentSpecialist.service_id == service.id, EmploymentSpecialist.is_active.is_(True)
        )
    ).all()
    contacts = dict(
        session.execute(
            select(EmployerContact.specialist_id, func.count())
            .where(
                EmployerContact.service_id == service.id,
                EmployerContact.face_to_face.is_(True),
                EmployerContact.occurred_on >= period.start,
                EmployerContact.occurred_on <= period.end,
            )
            .group_by(EmployerContact.specialist_id)
        ).all()
    )
    names = dict(
        session.execute(
            select(User.id, User.display_name).where(User.id.in_([s.user_id for s in specialists]))
        ).all()
    )
    facts = [
        SpecialistFacts(
            id=s.id, fte=Decimal(s.fte), face_to_face_employer_contacts=int(contacts.get(s.id, 0))
        )
        for s in specialists
    ]
    return facts, {s.id: names.get(s.user_id, "") for s in specialists}


def _rule_facts(session: Session, service: IpsService) -> list[OutcomeRuleFacts]:
    rules = session.scalars(
        select(OutcomeRule).where(OutcomeRule.service_id == service.id).order_by(OutcomeRule.name)
    ).all()
    return [
        OutcomeRuleFacts(
            name=r.name,
            min_hours_per_week=Decimal(r.min_hours_per_week),
            weeks_required=r.weeks_required,
            within_weeks=r.within_weeks,
            min_hourly_pay_pence=r.min_hourly_pay_pence,
            requires_minimum_wage=r.requires_minimum_wage,
        )
        for r in rules
    ]


def compute_metrics(
    session: Session, *, service: IpsService, period_start: date, period_end: date
) -> dict[str, Any]:
    """The measures for a service and each of its specialists (no access check, no audit)."""
    period = _period(period_start, period_end)
    referrals = _referral_facts(session, service, period.end)
    jobs = _job_facts(session, service, period.end)
    specialists, names = _specialist_facts(session, service, period)
    rules = _rule_facts(session, service)
    whole = service_measures(Facts(referrals, jobs, specialists, rules), period)
    by_specialist = []
    for specialist in specialists:
        theirs = [r for r in referrals if r.specialist_id == specialist.id]
        ids = {r.id for r in theirs}
        measures = service_measures(
            Facts(theirs, [j for j in jobs if j.referral_id in ids], [specialist], rules), period
        )
        by_specialist.append(
            {"specialist_id": specialist.id, "display_name": names[specialist.id], **measures}
        )
    return {
        "service_id": service.id,
        "period": {"start": period.start, "end": period.end},
        "caseload_limit_per_fte": service.caseload_limit_per_fte,
        **whole,
        "by_specialist": by_specialist,
    }


def service_metrics(
    session: Session, *, actor: Actor, service_id: str, period_start: date, period_end: date
) -> dict[str, Any]:
    """The service's measures over a period, whole and per specialist."""
    service = require_metrics_access(session, actor, service_id)
    result = compute_metrics(
        session, service=service, period_start=period_start, period_end=period_end
    )
    audit(
        session,
        actor=actor,
        action="metrics.read",
        record_type="ips_service",
        record_id=service.id,
        start=period_start.isoformat(),
        end=period_end.isoformat(),
    )
    session.commit()
    return result


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        rows: list[tuple[str, Any]] = []
        for key, inner in value.items():
            rows += _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
        return rows
    if isinstance(value, list):
        rows = []
        for item in value:
            rows += _flatten(f"{prefix}.{item['rule']}", item["achieved"])
        return rows
    return [(prefix, value)]


def metrics_csv(metrics: dict[str, Any]) -> str:
    """The measures as CSV: one row per measure, for the service and for each specialist."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["service_id", "period_start", "period_end", "scope", "measure", "value"])
    common = [metrics["service_id"], metrics["period"]["start"], metrics["period"]["end"]]
    skip = {"service_id", "period", "by_specialist"}
    for measure, value in _flatten("", {k: v for k, v in metrics.items() if k not in skip}):
        writer.writerow([*common, "service", measure, "" if value is None else value])
    for specialist in metrics["by_specialist"]:
        scope = f"specialist:{specialist['specialist_id']}"
        inner = {k: v for k, v in specialist.items() if k not in {"specialist_id", "display_name"}}
        for measure, value in _flatten("", inner):
            writer.writerow([*common, scope, measure, "" if value is None else value])
    return out.getvalue()
