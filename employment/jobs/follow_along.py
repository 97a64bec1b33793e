"""In-work (follow-along) support: weekly in the first month after a start, then at least
monthly; a job whose support is late is flagged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.pagination import PageRequest, keyset_page
from auth.actor import Actor
from employment.access import require_staffed_service, staffed_service_ids
from employment.models import Contact, IpsService, Job, Referral
from employment.rules import FOLLOW_ALONG_FIRST_MONTH, FOLLOW_ALONG_MONTHLY, FOLLOW_ALONG_WEEKLY
from employment.trail import audit


@dataclass(frozen=True)
class FollowAlong:
    """When in-work support for a job is next due, and whether it is late."""

    last_support_on: date | None
    due_by: date
    overdue: bool


def follow_along_status(start_date: date, last_support_on: date | None, as_of: date) -> FollowAlong:
    """Weekly support in the first month after a start, then at least monthly."""
    in_first_month = as_of - start_date <= FOLLOW_ALONG_FIRST_MONTH
    interval: timedelta = FOLLOW_ALONG_WEEKLY if in_first_month else FOLLOW_ALONG_MONTHLY
    anchor = max(start_date, last_support_on) if last_support_on else start_date
    due_by = anchor + interval
    return FollowAlong(last_support_on=last_support_on, due_by=due_by, overdue=as_of > due_by)


# A job's latest in-work support contact on or before `as_of` (bound at execution): the
# one definition the follow-along list and the service measures both use.
LAST_SUPPORT_ON = (
    select(func.max(Contact.occurred_on))
    .where(Contact.job_id == Job.id, Contact.occurred_on <= bindparam("as_of"))
    .scalar_subquery()
)


def last_support_dates(session: Session, job_ids: list[str], as_of: date) -> dict[str, date]:
    """The latest in-work support contact for each job, on or before a date."""
    if not job_ids:
        return {}
    rows = session.execute(
        select(Job.id, LAST_SUPPORT_ON).where(Job.id.in_(job_ids)), {"as_of": as_of}
    ).all()
    return {job_id: day for job_id, day in rows if day}


def follow_along(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    as_of: date,
    overdue_only: bool,
    page: PageRequest,
) -> dict[str, Any]:
    """People in work and when their in-work support is due; overdue ones flagged."""
    service = require_staffed_service(session, actor, service_id)
    stmt = (
        select(Job)
        .join(Referral, Referral.id == Job.referral_id)
        .where(
            Referral.service_id.in_(select(IpsService.id).where(staffed_service_ids(actor))),
            Referral.service_id == service.id,
            Job.start_date <= as_of,
            (Job.end_date.is_(None)) | (Job.end_date > as_of),
        )
    )
    result = keyset_page(
        session, stmt, keys=[Job.id], page=page, scope=f"ips-follow-along:{service.id}:{as_of}"
    )
    jobs: list[Job] = list(result.items)
    last = last_support_dates(session, [j.id for j in jobs], as_of)
    referrals = {
        r.id: r
        for r in session.scalars(
            select(Referral).where(Referral.id.in_({j.referral_id for j in jobs}))
        )
    }
    items = []
    for job in jobs:
        status = follow_along_status(job.start_date, last.get(job.id), as_of)
        if overdue_only and not status.overdue:
            continue
        referral = referrals[job.referral_id]
        items.append(
            {
                "job_id": job.id,
                "referral_id": job.referral_id,
                "person_id": referral.person_id,
                "specialist_id": referral.specialist_id,
                "start_date": job.start_date,
                "last_support_on": status.last_support_on,
                "due_by": status.due_by,
                "overdue": status.overdue,
            }
        )
    audit(
        session,
        actor=actor,
        action="follow_along.list",
        record_type="ips_service",
        record_id=service.id,
        count=len(items),
    )
    session.commit()
    return {"items": items, "next_cursor": result.next_cursor}
