"""Jobs: what the person started, judged competitive when open to anyone and paid at least
the minimum wage for their age on the start date (dated rates), with 4 paid hours, changes
of hours or pay, and the end of the job."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain_errors import InvalidState, NotFound, RuleViolation
from app.money import money
from app.notifications import notify
from app.pagination import PageRequest
from app.versioning import check_if_match
from auth.actor import Actor
from auth.models import Person
from employment.access import require_managed_referral, require_visible_referral
from employment.models import (
    BenefitsPlanningSession,
    Employer,
    EmploymentSpecialist,
    Job,
    Referral,
)
from employment.rates import minimum_wage_pence
from employment.rules import ON_CASELOAD_STATES, hours_band
from employment.trail import audit, page_of_referral_records


def _judge_competitive(session: Session, job: Job, person: Person) -> None:
    """Competitive: open to anyone and at least the minimum wage for their age on the start."""
    minimum = minimum_wage_pence(session, on=job.start_date, date_of_birth=person.date_of_birth)
    job.minimum_wage_pence = minimum
    job.is_competitive = bool(
        not job.is_self_employment
        and job.open_to_anyone
        and minimum is not None
        and job.hourly_pay_pence >= minimum
    )


def describe_job(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "referral_id": job.referral_id,
        "employer_id": job.employer_id,
        "employer_name": job.employer_name,
        "role": job.role,
        "start_date": job.start_date,
        "hours_per_week": float(job.hours_per_week),
        "hourly_pay": money(job.hourly_pay_pence, job.currency),
        "is_self_employment": job.is_self_employment,
        "open_to_anyone": job.open_to_anyone,
        "four_paid_hours_on": job.four_paid_hours_on,
        "minimum_wage": (
            money(job.minimum_wage_pence, job.currency) if job.minimum_wage_pence else None
        ),
        "is_competitive": job.is_competitive,
        "hours_band": hours_band(Decimal(job.hours_per_week)),
        "end_date": job.end_date,
        "end_reason": job.end_reason,
        "version": job.version,
    }


def remind_benefits_planning(session: Session, *, referral: Referral, job: Job, why: str) -> None:
    """Ask the person's specialist for benefits planning (before a start, on a change)."""
    if why == "before_job_start":
        done = session.scalar(
            select(BenefitsPlanningSession.id).where(
                BenefitsPlanningSession.referral_id == referral.id,
                BenefitsPlanningSession.trigger == "before_job_start",
            )
        )
        if done:
            return
    specialist = (
        session.get(EmploymentSpecialist, referral.specialist_id)
        if referral.specialist_id
        else None
    )
    if specialist is None:
        return
    notify(
        session,
        user_ids=[specialist.user_id],
        kind="ips.benefits_planning_due",
        title="Benefits planning due",
        body="A job start or a change of hours or pay needs a benefits planning session.",
        record_type="ips_job",
        record_id=job.id,
    )


def _hours(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def record_job(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    employer_id: str | None,
    employer_name: str | None,
    role: str,
    start_date: date,
    hours_per_week: float,
    hourly_pay: dict[str, Any],
    is_self_employment: bool,
    open_to_anyone: bool,
    four_paid_hours_on: date | None,
) -> dict[str, Any]:
    """Record a job (or self-employment) the person has started."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    if referral.status not in ON_CASELOAD_STATES:
        raise InvalidState("Jobs are recorded for people on the caseload.")
    if employer_id is not None:
        employer = session.get(Employer, employer_id)
        if employer is None or employer.service_id != referral.service_id:
            raise RuleViolation("employer-not-in-service", "Add the employer to this service.")
        employer_name = employer.name
    if not employer_name:
        raise RuleViolation("employer-required", "Give the employer (or the business name).")
    if four_paid_hours_on is not None and four_paid_hours_on < start_date:
        raise RuleViolation("date-before-job-start", "4 paid hours cannot precede the start.")
    job = Job(
        referral_id=referral.id,
        employer_id=employer_id,
        employer_name=employer_name,
        role=role,
        start_date=start_date,
        hours_per_week=_hours(hours_per_week),
        hourly_pay_pence=int(hourly_pay["amount"]),
        currency=hourly_pay["currency"],
        is_self_employment=is_self_employment,
        open_to_anyone=open_to_anyone,
        four_paid_hours_on=four_paid_hours_on,
    )
    person = session.get(Person, referral.person_id)
    assert person is not None
    _judge_competitive(session, job, person)
    session.add(job)
    session.flush()
    remind_benefits_planning(session, referral=referral, job=job, why="before_job_start")
    audit(
        session,
        actor=actor,
        action="job.create",
        record_type="ips_job",
        record_id=job.id,
        person_id=referral.person_id,
        competitive=job.is_competitive,
    )
    session.commit()
    return describe_job(job)


def _job_for(session: Session, actor: Actor, job_id: str, *, manage: bool) -> tuple[Job, Referral]:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("No such job.")
    try:
        if manage:
            referral = require_managed_referral(session, actor, job.referral_id, for_update=True)
        else:
            referral = require_visible_referral(session, actor, job.referral_id)
    except NotFound as exc:
        raise NotFound("No such job.") from exc
    return job, referral


def get_job(session: Session, *, actor: Actor, job_id: str) -> dict[str, Any]:
    """One job."""
    job, referral = _job_for(session, actor, job_id, manage=False)
    audit(
        session,
        actor=actor,
        action="job.read",
        record_type="ips_job",
        record_id=job.id,
        person_id=referral.person_id,
    )
    session.commit()
    return describe_job(job)


def update_job(
    session: Session,
    *,
    actor: Actor,
    job_id: str,
    if_match: list[str] | None,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """Record 4 paid hours, a change of hours or pay, or the end of a job (If-Match)."""
    job, referral = _job_for(session, actor, job_id, manage=True)
    check_if_match(if_match, job.id, job.version)
    if "hours_per_week" in changes:
        job.hours_per_week = _hours(changes["hours_per_week"])
    if "hourly_pay" in changes:
        job.hourly_pay_pence = int(changes["hourly_pay"]["amount"])
    for name in ("four_paid_hours_on", "end_date", "end_reason"):
        if name in changes:
            setattr(job, name, changes[name])
    if job.four_paid_hours_on is not None and job.four_paid_hours_on < job.start_date:
        raise RuleViolation("date-before-job-start", "4 paid hours cannot precede the start.")
    if job.end_date is not None and job.end_date < job.start_date:
        raise RuleViolation("date-before-job-start", "A job cannot end before it starts.")
    if (job.end_date is None) != (job.end_reason is None):
        raise RuleViolation("end-needs-reason", "An end date and its reason go together.")
    person = session.get(Person, referral.person_id)
    assert person is not None
    _judge_competitive(session, job, person)
    if {"hours_per_week", "hourly_pay"} & set(changes):
        remind_benefits_planning(session, referral=referral, job=job, why="hours_or_pay_change")
    job.version += 1
    audit(
        session,
        actor=actor,
        action="job.update",
        record_type="ips_job",
        record_id=job.id,
        person_id=referral.person_id,
        fields=sorted(changes),
    )
    session.commit()
    return describe_job(job)


def list_jobs(session: Session, *, actor: Actor, referral_id: str, page: PageRequest) -> Any:
    """The person's jobs, most recently recorded first."""
    result = page_of_referral_records(
        session,
        actor=actor,
        referral_id=referral_id,
        model=Job,
        action="job.list",
        page=page,
    )
    return {"items": [describe_job(j) for j in result.items], "next_cursor": result.next_cursor}
