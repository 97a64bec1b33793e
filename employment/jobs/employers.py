"""Job development: employers and specialists' contacts with them, for named people."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain_errors import Conflict, RuleViolation
from app.pagination import PageRequest, keyset_page
from auth.actor import Actor
from employment.access import require_staffed_service
from employment.models import (
    Employer,
    EmployerContact,
    EmployerContactPerson,
    EmploymentSpecialist,
    IpsService,
    Referral,
)
from employment.trail import audit


def add_employer(
    session: Session, *, actor: Actor, service_id: str, name: str, sector: str | None
) -> Employer:
    """Add an employer the service is developing jobs with."""
    service = require_staffed_service(session, actor, service_id)
    exists = session.scalar(
        select(Employer.id).where(Employer.service_id == service.id, Employer.name == name)
    )
    if exists:
        raise Conflict("This service already has an employer with that name.")
    employer = Employer(service_id=service.id, name=name, sector=sector)
    session.add(employer)
    session.flush()
    audit(
        session,
        actor=actor,
        action="employer.create",
        record_type="ips_employer",
        record_id=employer.id,
    )
    session.commit()
    return employer


def list_employers(session: Session, *, actor: Actor, service_id: str, page: PageRequest) -> Any:
    """The service's employers."""
    service = require_staffed_service(session, actor, service_id)
    return keyset_page(
        session,
        select(Employer).where(Employer.service_id == service.id),
        keys=[Employer.id],
        page=page,
        scope=f"ips-employers:{service.id}",
    )


def _specialist_in(session: Session, service: IpsService, actor: Actor, given: str | None) -> str:
    if given is not None:
        found = session.get(EmploymentSpecialist, given)
        if found is None or found.service_id != service.id:
            raise RuleViolation("specialist-not-in-service", "Choose a specialist in this service.")
        return found.id
    own = (
        session.scalar(
            select(EmploymentSpecialist.id).where(
                EmploymentSpecialist.service_id == service.id,
                EmploymentSpecialist.user_id == actor.user_id,
            )
        )
        if actor.user_id
        else None
    )
    if own is None:
        raise RuleViolation("specialist-required", "Say which specialist made the contact.")
    return own


def describe_employer_contact(contact: EmployerContact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "service_id": contact.service_id,
        "employer_id": contact.employer_id,
        "specialist_id": contact.specialist_id,
        "occurred_on": contact.occurred_on,
        "face_to_face": contact.face_to_face,
        "purpose": contact.purpose,
        "referral_ids": sorted(p.referral_id for p in contact.people),
    }


def log_employer_contact(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    employer_id: str,
    specialist_id: str | None,
    occurred_on: date,
    face_to_face: bool,
    purpose: str,
    referral_ids: list[str],
) -> dict[str, Any]:
    """Log a specialist's contact with an employer, linked to the people it was for."""
    service = require_staffed_service(session, actor, service_id)
    employer = session.get(Employer, employer_id)
    if employer is None or employer.service_id != service.id:
        raise RuleViolation("employer-not-in-service", "Add the employer to this service first.")
    wanted = set(referral_ids)
    found = set(
        session.scalars(
            select(Referral.id).where(Referral.id.in_(wanted), Referral.service_id == service.id)
        )
    )
    if found != wanted:
        raise RuleViolation("referral-not-in-service", "Link only people on this service.")
    contact = EmployerContact(
        service_id=service.id,
        specialist_id=_specialist_in(session, service, actor, specialist_id),
        employer_id=employer.id,
        occurred_on=occurred_on,
        face_to_face=face_to_face,
        purpose=purpose,
        people=[EmployerContactPerson(referral_id=r) for r in sorted(wanted)],
    )
    session.add(contact)
    session.flush()
    people: dict[str, str] = {
        referral_id: person_id
        for referral_id, person_id in session.execute(
            select(Referral.id, Referral.person_id).where(Referral.id.in_(wanted))
        )
    }
    for referral_id in sorted(wanted):
        audit(
            session,
            actor=actor,
            action="employer_contact.create",
            record_type="ips_employer_contact",
            record_id=contact.id,
            person_id=people[referral_id],
            referral_id=referral_id,
        )
    if not wanted:
        audit(
            session,
            actor=actor,
            action="employer_contact.create",
            record_type="ips_employer_contact",
            record_id=contact.id,
        )
    session.commit()
    return describe_employer_contact(contact)


def list_employer_contacts(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    specialist_id: str | None,
    page: PageRequest,
) -> dict[str, Any]:
    """The service's employer contacts, most recently recorded first."""
    service = require_staffed_service(session, actor, service_id)
    stmt = select(EmployerContact).where(EmployerContact.service_id == service.id)
    if specialist_id:
        stmt = stmt.where(EmployerContact.specialist_id == specialist_id)
    result = keyset_page(
        session,
        stmt,
        keys=[EmployerContact.id],
        page=page,
        descending=True,
        scope=f"ips-employer-contacts:{service.id}:{specialist_id}",
    )
    audit(
        session,
        actor=actor,
        action="employer_contact.list",
        record_type="ips_service",
        record_id=service.id,
        count=len(result.items),
    )
    session.commit()
    return {
        "items": [describe_employer_contact(c) for c in result.items],
        "next_cursor": result.next_cursor,
    }
