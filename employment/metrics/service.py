"""Service measures for a period (whole service and per specialist), exported as JSON or
CSV, for the staff running the service and the admins of the commissioner funding it."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.direct_sql import DirectStatement
from app.domain_errors import ValidationFailed
from auth.actor import Actor
from auth.models import User
from employment.access import require_metrics_access
from employment.jobs.follow_along import LAST_SUPPORT_ON
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


# The facts are read with four statements built once (values bound at execution): plain
# rows, not ORM objects, and each referral's and job's latest dates aggregated in the same
# statement. A service holds thousands of referrals and this runs on every metrics read.
_OF_SERVICE = select(Referral.id).where(Referral.service_id == bindparam("service_id"))

_FIRST_EMPLOYER_CONTACT = (
    select(
        EmployerContactPerson.referral_id.label("referral_id"),
        func.min(EmployerContact.occurred_on).label("day"),
    )
    .join(EmployerContact, EmployerContact.id == EmployerContactPerson.employer_contact_id)
    .join(Referral, Referral.id == EmployerContactPerson.referral_id)
    .where(
        Referral.service_id == bindparam("service_id"),
        EmployerContact.face_to_face.is_(True),
        EmployerContact.occurred_on >= Referral.accepted_on,
    )
    .group_by(EmployerContactPerson.referral_id)
    .subquery()
)

_LAST_DIRECT_CONTACT = (
    select(Contact.referral_id.label("referral_id"), func.max(Contact.occurred_on).label("day"))
    .where(
        Contact.referral_id.in_(_OF_SERVICE),
        Contact.with_whom == "person",
        Contact.occurred_on <= bindparam("end"),
    )
    .group_by(Contact.referral_id)
    .subquery()
)

_REFERRAL_FACTS = DirectStatement(
    select(
        Referral.id,
        Referral.specialist_id,
        Referral.in_work_at_referral,
        Referral.accepted_on,
        Referral.first_contact_on,
        Referral.discharged_on,
        _FIRST_EMPLOYER_CONTACT.c.day,
        _LAST_DIRECT_CONTACT.c.day,
    )
    .outerjoin(_FIRST_EMPLOYER_CONTACT, _FIRST_EMPLOYER_CONTACT.c.referral_id == Referral.id)
    .outerjoin(_LAST_DIRECT_CONTACT, _LAST_DIRECT_CONTACT.c.referral_id == Referral.id)
    .where(Referral.service_id == bindparam("service_id"))
)

_JOB_FACTS = DirectStatement(
    select(
        Job.id,
        Job.referral_id,
        Job.start_date,
        Job.hours_per_week,
        Job.hourly_pay_pence,
        Job.minimum_wage_pence,
        Job.is_competitive | Job.is_self_employment,
        Job.four_paid_hours_on,
        Job.end_date,
        LAST_SUPPORT_ON,
    )
    .join(Referral, Referral.id == Job.referral_id)
    .where(Referral.service_id == bindparam("service_id"))
)

_FACE_TO_FACE_EMPLOYER_CONTACTS = (
    select(func.count())
    .where(
        EmployerContact.specialist_id == EmploymentSpecialist.id,
        EmployerContact.service_id == bindparam("service_id"),
        EmployerContact.face_to_face.is_(True),
        EmployerContact.occurred_on >= bindparam("start"),
        EmployerContact.occurred_on <= bindparam("end"),
    )
    .scalar_subquery()
)

_SPECIALIST_FACTS = DirectStatement(
    select(
        EmploymentSpecialist.id,
        EmploymentSpecialist.fte,
        _FACE_TO_FACE_EMPLOYER_CONTACTS,
        func.coalesce(User.display_name, ""),
    )
    .outerjoin(User, User.id == EmploymentSpecialist.user_id)
    .where(
        EmploymentSpecialist.service_id == bindparam("service_id"),
        EmploymentSpecialist.is_active.is_(True),
    )
    .order_by(EmploymentSpecialist.created_at, EmploymentSpecialist.id)
)

_RULE_FACTS = DirectStatement(
    select(
        OutcomeRule.name,
        OutcomeRule.min_hours_per_week,
        OutcomeRule.weeks_required,
        OutcomeRule.within_weeks,
        OutcomeRule.min_hourly_pay_pence,
        OutcomeRule.requires_minimum_wage,
    )
    .where(OutcomeRule.service_id == bindparam("service_id"))
    .order_by(OutcomeRule.name)
)


def _referral_facts(session: Session, service: IpsService, end: date) -> list[ReferralFacts]:
    rows = _REFERRAL_FACTS.rows(session, {"service_id": service.id, "end": end})
    return [ReferralFacts(*row) for row in rows]


def _job_facts(session: Session, service: IpsService, end: date) -> list[JobFacts]:
    rows = _JOB_FACTS.rows(session, {"service_id": service.id, "as_of": end})
    return [
        JobFacts(
            id=job_id,
            referral_id=referral_id,
            start_date=start_date,
            hours_per_week=Decimal(hours_per_week),
            hourly_pay_pence=hourly_pay_pence,
            minimum_wage_pence=minimum_wage_pence,
            counts_as_job=bool(counts_as_job),
            four_paid_hours_on=four_paid_hours_on,
            end_date=end_date,
            last_support_on=last_support_on,
        )
        for (
            job_id,
            referral_id,
            start_date,
            hours_per_week,
            hourly_pay_pence,
            minimum_wage_pence,
            counts_as_job,
            four_paid_hours_on,
            end_date,
            last_support_on,
        ) in rows
    ]


def _specialist_facts(
    session: Session, service: IpsService, period: Period
) -> tuple[list[SpecialistFacts], dict[str, str]]:
    rows = _SPECIALIST_FACTS.rows(
        session, {"service_id": service.id, "start": period.start, "end": period.end}
    )
    facts = [
        SpecialistFacts(id=specialist_id, fte=Decimal(fte), face_to_face_employer_contacts=count)
        for specialist_id, fte, count, _name in rows
    ]
    return facts, {specialist_id: name for specialist_id, _fte, _count, name in rows}


def _rule_facts(session: Session, service: IpsService) -> list[OutcomeRuleFacts]:
    rows = _RULE_FACTS.rows(session, {"service_id": service.id})
    return [
        OutcomeRuleFacts(
            name=name,
            min_hours_per_week=Decimal(min_hours),
            weeks_required=weeks_required,
            within_weeks=within_weeks,
            min_hourly_pay_pence=min_pay,
            requires_minimum_wage=requires_minimum_wage,
        )
        for name, min_hours, weeks_required, within_weeks, min_pay, requires_minimum_wage in rows
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
    referrals_of: dict[str | None, list[ReferralFacts]] = defaultdict(list)
    for referral in referrals:
        referrals_of[referral.specialist_id].append(referral)
    specialist_of = {r.id: r.specialist_id for r in referrals}
    jobs_of: dict[str | None, list[JobFacts]] = defaultdict(list)
    for job in jobs:
        jobs_of[specialist_of.get(job.referral_id)].append(job)
    by_specialist = []
    for specialist in specialists:
        theirs = Facts(referrals_of[specialist.id], jobs_of[specialist.id], [specialist], rules)
        measures = service_measures(theirs, period)
        by_specialist.append(
            {"specialist_id": specialist.id, "display_name": names[specialist.id], **measures}
        )
    return {
        "service_id": service.id,
        "period": period.as_json(),
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
