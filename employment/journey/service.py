"""The person's IPS journey in one read: for each of their episodes, the service and
specialist, the next appointment, the vocational profile, job search activity and jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import NotFound
from auth.actor import Actor
from auth.models import User
from employment.access import visible_referrals_clause
from employment.jobs.service import describe_job
from employment.models import (
    Appointment,
    Employer,
    EmployerContact,
    EmployerContactPerson,
    EmploymentSpecialist,
    IpsService,
    Job,
    Referral,
    VocationalProfile,
)
from employment.trail import audit

EPISODES_SHOWN = 10
RECENT_EMPLOYER_CONTACTS = 5


def _specialist(session: Session, specialist_id: str | None) -> dict[str, Any] | None:
    if specialist_id is None:
        return None
    specialist = session.get(EmploymentSpecialist, specialist_id)
    user = session.get(User, specialist.user_id) if specialist else None
    return {"id": specialist_id, "display_name": user.display_name if user else None}


def _job_search(session: Session, referral_id: str) -> dict[str, Any]:
    linked = (
        select(EmployerContact.occurred_on, Employer.name, EmployerContact.face_to_face)
        .join(
            EmployerContactPerson, EmployerContactPerson.employer_contact_id == EmployerContact.id
        )
        .join(Employer, Employer.id == EmployerContact.employer_id)
        .where(EmployerContactPerson.referral_id == referral_id)
    )
    count = session.scalar(select(func.count()).select_from(linked.subquery())) or 0
    recent = session.execute(
        linked.order_by(EmployerContact.occurred_on.desc(), EmployerContact.id.desc()).limit(
            RECENT_EMPLOYER_CONTACTS
        )
    ).all()
    return {
        "employer_contacts": int(count),
        "recent": [
            {"occurred_on": day, "employer_name": name, "face_to_face": f2f}
            for day, name, f2f in recent
        ],
    }


def journey(session: Session, *, actor: Actor, person_id: str) -> dict[str, Any]:
    """Everything the person (or their broker, or their service) sees about their IPS journey."""
    referrals = session.scalars(
        select(Referral)
        .where(Referral.person_id == person_id, visible_referrals_clause(actor))
        .order_by(Referral.id.desc())
        .limit(EPISODES_SHOWN)
    ).all()
    if not referrals and person_id not in actor.own_person_ids:
        raise NotFound("No such person.")
    now = utcnow()
    episodes = []
    for referral in referrals:
        service = session.get(IpsService, referral.service_id)
        assert service is not None
        next_appointment = session.scalars(
            select(Appointment)
            .where(
                Appointment.referral_id == referral.id,
                Appointment.status == "scheduled",
                Appointment.starts_at > now,
            )
            .order_by(Appointment.starts_at)
            .limit(1)
        ).first()
        profile = session.scalars(
            select(VocationalProfile).where(VocationalProfile.referral_id == referral.id)
        ).first()
        jobs = session.scalars(
            select(Job).where(Job.referral_id == referral.id).order_by(Job.start_date.desc())
        ).all()
        episodes.append(
            {
                "referral": referral,
                "service": {
                    "id": service.id,
                    "name": service.name,
                    "contact_email": service.contact_email,
                    "contact_phone": service.contact_phone,
                },
                "specialist": _specialist(session, referral.specialist_id),
                "next_appointment": next_appointment,
                "profile": profile,
                "job_search": _job_search(session, referral.id),
                "jobs": [describe_job(j) for j in jobs],
            }
        )
        audit(
            session,
            actor=actor,
            action="journey.read",
            record_type="ips_referral",
            record_id=referral.id,
            person_id=person_id,
        )
    session.commit()
    return {"person_id": person_id, "episodes": episodes}
