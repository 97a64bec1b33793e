"""Joining an IPS service and moving through it: referral, acceptance onto a specialist's
caseload (with the limit), first contact, active, discharge.

Zero exclusion: a referral is refused only when the person does not want paid work.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import Conflict, Forbidden, InvalidState, NotFound, RuleViolation
from app.notifications import notify
from app.pagination import PageRequest
from app.sync import SyncPage, Tombstone, sync_page
from auth.access import can_see_person, visible_people_clause
from auth.actor import Actor
from auth.models import Person
from auth.roles import Role, Scope
from employment.access import (
    require_managed_referral,
    require_visible_referral,
    runs_service,
    visible_referrals_clause,
)
from employment.models import CaseloadAssignment, EmploymentSpecialist, IpsService, Referral
from employment.provision.service import caseload_of
from employment.rules import (
    ACCEPTED,
    ACTIVE,
    DISCHARGED,
    FIRST_CONTACT,
    NEXT_STATES,
    ON_CASELOAD_STATES,
    OPEN_STATES,
)
from employment.trail import audit, audit_each, person_user_ids


def _source_for(session: Session, actor: Actor, service: IpsService, person_id: str) -> str:
    """Who is referring: the person (self), their broker, or the service's clinical partners."""
    write = str(Scope.EMPLOYMENT_WRITE) in actor.scopes
    if person_id in actor.own_person_ids and write:
        return "self"
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    if actor.has_role(Role.BROKER) and person.broker_id == actor.user_id and write:
        return "broker"
    if runs_service(actor, service):
        return "clinician"
    if can_see_person(session, actor, person_id):
        raise Forbidden("Your role cannot refer people to IPS.")
    raise NotFound("No such person.")


def refer(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    person_id: str,
    wants_paid_work: bool,
    in_work_at_referral: bool,
    care_plan_outcome_id: str | None,
    referrer_team: str | None,
    received_on: date | None,
) -> Referral:
    """Refer a person (yourself, someone on your caseload, or from the clinical team) to IPS."""
    service = session.get(IpsService, service_id)
    if service is None or not service.is_active:
        raise NotFound("No such IPS service.")
    source = _source_for(session, actor, service, person_id)
    if not wants_paid_work:
        raise RuleViolation(
            "not-seeking-paid-work",
            "IPS is for people who want paid work; that is the only question it asks.",
        )
    if received_on is not None and received_on > utcnow().date():
        raise RuleViolation("date-in-future", "A referral cannot be received in the future.")
    if source == "clinician" and not referrer_team:
        raise RuleViolation("referrer-team-required", "Say which clinical team is referring.")
    open_referral = session.scalar(
        select(Referral.id).where(
            Referral.service_id == service.id,
            Referral.person_id == person_id,
            Referral.status.in_(OPEN_STATES),
        )
    )
    if open_referral is not None:
        raise Conflict("This person already has an open referral to this service.")
    referral = Referral(
        service_id=service.id,
        person_id=person_id,
        source=source,
        referred_by_user_id=actor.user_id,
        referred_by_client_id=actor.client_id if actor.user_id is None else None,
        referrer_team=referrer_team if source == "clinician" else None,
        care_plan_outcome_id=care_plan_outcome_id,
        in_work_at_referral=in_work_at_referral,
        received_on=received_on or utcnow().date(),
    )
    session.add(referral)
    session.flush()
    audit(
        session,
        actor=actor,
        action="referral.create",
        record_type="ips_referral",
        record_id=referral.id,
        person_id=person_id,
        source=source,
    )
    session.commit()
    return referral


def list_referrals(
    session: Session,
    *,
    actor: Actor,
    service_id: str | None,
    person_id: str | None,
    status: str | None,
    page: PageRequest,
    updated_since: datetime | None = None,
    sync_overlap_seconds: int = 0,
) -> SyncPage[Referral]:
    """Referrals the actor may see, newest first, optionally filtered; with `updated_since`
    only those changed since then, oldest change first."""
    stmt = select(Referral).where(visible_referrals_clause(actor))
    if service_id:
        stmt = stmt.where(Referral.service_id == service_id)
    if person_id:
        stmt = stmt.where(Referral.person_id == person_id)
    if status:
        stmt = stmt.where(Referral.status == status)
    result = sync_page(
        session,
        stmt,
        updated_at=Referral.updated_at,
        id=Referral.id,
        page=page,
        scope=f"ips-referrals:{service_id}:{person_id}:{status}",
        updated_since=updated_since,
        record_type="ips_referral",
        # Referrals are never deleted (closed instead); listed for completeness.
        deleted_visible=visible_people_clause(
            actor, cast("ColumnElement[str]", Tombstone.owner_id)
        ),
        overlap_seconds=sync_overlap_seconds,
        full_sync_keys=[Referral.id],
        full_sync_descending=True,
    )
    audit_each(
        session,
        actor=actor,
        action="referral.list",
        record_type="ips_referral",
        records=[(referral.id, referral.person_id) for referral in result.items],
    )
    session.commit()
    return result


def get_referral(session: Session, *, actor: Actor, referral_id: str) -> Referral:
    """One referral, if it is yours, on your caseload, or in a service you run."""
    referral = require_visible_referral(session, actor, referral_id)
    audit(
        session,
        actor=actor,
        action="referral.read",
        record_type="ips_referral",
        record_id=referral.id,
        person_id=referral.person_id,
    )
    session.commit()
    return referral


def _move(referral: Referral, to: str) -> None:
    if to not in NEXT_STATES[referral.status]:
        raise InvalidState(f"A referral that is {referral.status} cannot become {to}.")
    referral.status = to
    referral.version += 1


def _assign(
    session: Session,
    *,
    actor: Actor,
    referral: Referral,
    specialist_id: str,
    override_reason: str | None,
) -> CaseloadAssignment:
    """Put the referral on a specialist's caseload, refusing past the limit unless overridden."""
    specialist = session.scalars(
        select(EmploymentSpecialist)
        .where(EmploymentSpecialist.id == specialist_id)
        .with_for_update()
    ).first()
    if specialist is None or specialist.service_id != referral.service_id:
        raise RuleViolation("specialist-not-in-service", "Choose a specialist in this service.")
    if not specialist.is_active:
        raise RuleViolation("specialist-inactive", "This specialist is not taking people.")
    service = session.get(IpsService, referral.service_id)
    assert service is not None
    caseload = caseload_of(session, service=service, specialist=specialist, as_of=utcnow().date())
    over = caseload.open + 1 > caseload.limit
    if over and not override_reason:
        raise RuleViolation(
            "caseload-limit",
            f"This specialist already holds {caseload.open} people; the limit for their "
            f"FTE is {caseload.limit}. Give an override reason to assign anyway.",
            caseload=caseload.open,
            limit=caseload.limit,
        )
    assignment = CaseloadAssignment(
        referral_id=referral.id,
        specialist_id=specialist.id,
        assigned_at=utcnow(),
        caseload_before=caseload.open,
        caseload_limit=caseload.limit,
        over_limit=over,
        override_reason=override_reason if over else None,
        assigned_by_user_id=actor.user_id,
        assigned_by_client_id=actor.client_id if actor.user_id is None else None,
    )
    session.add(assignment)
    referral.specialist_id = specialist.id
    audit(
        session,
        actor=actor,
        action="referral.assign",
        record_type="ips_referral",
        record_id=referral.id,
        person_id=referral.person_id,
        specialist_id=specialist.id,
        over_limit=over,
    )
    return assignment


def accept(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    specialist_id: str,
    accepted_on: date,
    caseload_override_reason: str | None,
) -> Referral:
    """Accept a referral onto a specialist's caseload (the referral date for the measures)."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    if accepted_on < referral.received_on:
        raise RuleViolation("date-before-referral", "Acceptance cannot precede the referral.")
    _move(referral, ACCEPTED)
    referral.accepted_on = accepted_on
    _assign(
        session,
        actor=actor,
        referral=referral,
        specialist_id=specialist_id,
        override_reason=caseload_override_reason,
    )
    notify(
        session,
        user_ids=person_user_ids(session, referral.person_id),
        kind="ips.referral_accepted",
        title="You have an employment specialist",
        body="Your employment support referral was accepted. Your specialist will be in touch.",
        record_type="ips_referral",
        record_id=referral.id,
    )
    session.commit()
    return referral


def reassign(
    session: Session,
    *,
    actor: Actor,
    referral_id: str,
    specialist_id: str,
    caseload_override_reason: str | None,
) -> Referral:
    """Move a person to another specialist's caseload."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    if referral.status not in ON_CASELOAD_STATES:
        raise InvalidState("Only a referral on the caseload can be reassigned.")
    if referral.specialist_id == specialist_id:
        raise Conflict("The referral is already with this specialist.")
    _assign(
        session,
        actor=actor,
        referral=referral,
        specialist_id=specialist_id,
        override_reason=caseload_override_reason,
    )
    referral.version += 1
    session.commit()
    return referral


def activate(session: Session, *, actor: Actor, referral_id: str, active_on: date) -> Referral:
    """Mark the person as actively working with their specialist after first contact."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    if referral.first_contact_on and active_on < referral.first_contact_on:
        raise RuleViolation("date-before-first-contact", "Active cannot precede first contact.")
    _move(referral, ACTIVE)
    referral.active_on = active_on
    audit(
        session,
        actor=actor,
        action="referral.activate",
        record_type="ips_referral",
        record_id=referral.id,
        person_id=referral.person_id,
    )
    session.commit()
    return referral


def discharge(
    session: Session, *, actor: Actor, referral_id: str, discharged_on: date, reason: str
) -> Referral:
    """Close the episode with one of the listed reasons (never a ground zero exclusion forbids)."""
    referral = require_managed_referral(session, actor, referral_id, for_update=True)
    if discharged_on < referral.received_on:
        raise RuleViolation("date-before-referral", "Discharge cannot precede the referral.")
    _move(referral, DISCHARGED)
    referral.discharged_on = discharged_on
    referral.closure_reason = reason
    audit(
        session,
        actor=actor,
        action="referral.discharge",
        record_type="ips_referral",
        record_id=referral.id,
        person_id=referral.person_id,
        reason=reason,
    )
    session.commit()
    return referral


def withdraw(session: Session, *, actor: Actor, referral_id: str) -> Referral:
    """Leave the IPS service yourself (or for the person you represent), at any stage."""
    referral = require_visible_referral(session, actor, referral_id, for_update=True)
    if referral.person_id not in actor.own_person_ids:
        raise Forbidden("Only the person (or their representative) can withdraw.")
    _move(referral, DISCHARGED)
    referral.discharged_on = max(utcnow().date(), referral.received_on)
    referral.closure_reason = "person_chose_to_leave"
    if referral.specialist_id:
        specialist = session.get(EmploymentSpecialist, referral.specialist_id)
        if specialist is not None:
            notify(
                session,
                user_ids=[specialist.user_id],
                kind="ips.referral_withdrawn",
                title="Someone on your caseload has left the service",
                record_type="ips_referral",
                record_id=referral.id,
            )
    audit(
        session,
        actor=actor,
        action="referral.withdraw",
        record_type="ips_referral",
        record_id=referral.id,
        person_id=referral.person_id,
    )
    session.commit()
    return referral


def note_direct_contact(referral: Referral, occurred_on: date) -> None:
    """A direct contact with the person: the first one moves the referral to first contact."""
    if referral.status == ACCEPTED:
        referral.status = FIRST_CONTACT
        referral.first_contact_on = occurred_on
        referral.version += 1
    elif referral.first_contact_on and occurred_on < referral.first_contact_on:
        referral.first_contact_on = occurred_on
        referral.version += 1
