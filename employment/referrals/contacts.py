"""Contacts made for a person (and in-work support) and appointments with their specialist."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import InvalidState, NotFound, RuleViolation
from app.notifications import notify
from app.pagination import Page, PageRequest
from auth.actor import Actor
from employment.access import require_managed_referral
from employment.models import Appointment, Contact, EmploymentSpecialist, Job, Referral
from employment.referrals.service import note_direct_contact
from employment.rules import ON_CASELOAD_STATES
from employment.trail import audit, page_of_referral_records, person_user_ids


def acting_specialist_id(session: Session, actor: Actor, referral: Referral) -> str | None:
    """The specialist recording this: the actor if they are one here, else the person's own."""
    if actor.user_id:
        own = session.scalar(
            select(EmploymentSpecialist.id).where(
                EmploymentSpecialist.service_id == referral.service_id,
                EmploymentSpecialist.user_id == actor.user_id,
            )
        )
        if own:
            return own
    return referral.specialist_id


def record_contact(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    occurred_on: date,
    with_whom: str,
    mode: str,
    setting: str | None,
    job_id: str | None,
) -> Contact:
    """Log a contact for a person on the caseload; the first direct one is their first contact."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    if referral.status not in ON_CASELOAD_STATES:
        raise InvalidState("Contacts are recorded once the person is on the caseload.")
    if referral.accepted_on and occurred_on < referral.accepted_on:
        raise RuleViolation("date-before-acceptance", "A contact cannot precede acceptance.")
    if occurred_on > utcnow().date():
        raise RuleViolation("date-in-future", "Record contacts once they have happened.")
    if mode == "remote":
        setting = None
    if job_id is not None:
        job = session.get(Job, job_id)
        if job is None or job.referral_id != referral.id:
            raise RuleViolation("job-not-for-person", "That job is not this person's.")
        if occurred_on < job.start_date:
            raise RuleViolation("date-before-job-start", "In-work support follows a start.")
    contact = Contact(
        referral_id=referral.id,
        specialist_id=acting_specialist_id(session, actor, referral),
        occurred_on=occurred_on,
        with_whom=with_whom,
        mode=mode,
        setting=setting,
        job_id=job_id,
    )
    session.add(contact)
    if with_whom == "person":
        note_direct_contact(referral, occurred_on)
    session.flush()
    audit(
        session,
        actor=actor,
        action="contact.create",
        record_type="ips_contact",
        record_id=contact.id,
        person_id=referral.person_id,
        with_whom=with_whom,
    )
    session.commit()
    return contact


def list_contacts(
    session: Session, *, actor: Actor, referral_id: str, page: PageRequest
) -> Page[Contact]:
    """Contacts for a referral, most recently recorded first."""
    return page_of_referral_records(
        session,
        actor=actor,
        referral_id=referral_id,
        model=Contact,
        action="contact.list",
        page=page,
    )


def book_appointment(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    starts_at: datetime,
    mode: str,
    location: str | None,
) -> Appointment:
    """Book a meeting with the person and tell them (and their representatives) about it."""
    referral = require_managed_referral(session, actor, referral_id)
    if referral.status not in ON_CASELOAD_STATES:
        raise InvalidState("Appointments are booked once the person is on the caseload.")
    if starts_at <= utcnow():
        raise RuleViolation("date-in-past", "Book appointments in the future.")
    appointment = Appointment(
        referral_id=referral.id,
        specialist_id=acting_specialist_id(session, actor, referral),
        starts_at=starts_at,
        mode=mode,
        location=location if mode == "in_person" else None,
    )
    session.add(appointment)
    session.flush()
    notify(
        session,
        user_ids=person_user_ids(session, referral.person_id),
        kind="ips.appointment_booked",
        title="New employment support appointment",
        body=f"{starts_at:%A %d %B at %H:%M} UTC, {mode.replace('_', ' ')}.",
        record_type="ips_appointment",
        record_id=appointment.id,
    )
    audit(
        session,
        actor=actor,
        action="appointment.create",
        record_type="ips_appointment",
        record_id=appointment.id,
        person_id=referral.person_id,
    )
    session.commit()
    return appointment


def cancel_appointment(session: Session, *, actor: Actor, appointment_id: str) -> Appointment:
    """Cancel a booked appointment and tell the person."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("No such appointment.")
    referral = require_managed_referral(session, actor, appointment.referral_id)
    if appointment.status != "scheduled":
        raise InvalidState("Only a scheduled appointment can be cancelled.")
    appointment.status = "cancelled"
    notify(
        session,
        user_ids=person_user_ids(session, referral.person_id),
        kind="ips.appointment_cancelled",
        title="Employment support appointment cancelled",
        body=f"The appointment on {appointment.starts_at:%A %d %B at %H:%M} UTC is cancelled.",
        record_type="ips_appointment",
        record_id=appointment.id,
    )
    audit(
        session,
        actor=actor,
        action="appointment.cancel",
        record_type="ips_appointment",
        record_id=appointment.id,
        person_id=referral.person_id,
    )
    session.commit()
    return appointment


def list_appointments(
    session: Session, *, actor: Actor, referral_id: str, page: PageRequest
) -> Page[Appointment]:
    """A referral's appointments, soonest first."""
    return page_of_referral_records(
        session,
        actor=actor,
        referral_id=referral_id,
        model=Appointment,
        action="appointment.list",
        page=page,
        keys=[Appointment.starts_at, Appointment.id],
        descending=False,
    )
