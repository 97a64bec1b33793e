"""Object-level access: may this actor see or change this record?

One place answers it for every domain. A record outside the actor's reach is reported as
404 (`NotFound`), never 403, so ids cannot be probed. The rules:
- a person: their own records; a representative: those of the people they act for;
- a broker: the people on their caseload (`Person.broker_id`);
- provider staff and back-office clients: their organisation's records;
- an admin: the people of their commissioner.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.audit import record_audit
from app.domain_errors import Forbidden, NotFound
from auth.actor import Actor
from auth.models import Person
from auth.roles import Role


def visible_people_clause(
    actor: Actor, person_id_column: InstrumentedAttribute[str] | ColumnElement[str]
) -> ColumnElement[bool]:
    """A SQL condition true for rows whose person the actor may see."""
    conditions: list[ColumnElement[bool]] = []
    if actor.own_person_ids:
        conditions.append(person_id_column.in_(sorted(actor.own_person_ids)))
    if actor.has_role(Role.BROKER) and actor.user_id:
        conditions.append(
            person_id_column.in_(select(Person.id).where(Person.broker_id == actor.user_id))
        )
    if actor.has_role(Role.ADMIN) and actor.commissioner_id:
        conditions.append(
            person_id_column.in_(
                select(Person.id).where(Person.commissioner_id == actor.commissioner_id)
            )
        )
    if not conditions:
        return false()
    return or_(*conditions)


def can_see_person(session: Session, actor: Actor, person_id: str) -> bool:
    """Whether the actor may see this person's records."""
    if person_id in actor.own_person_ids:
        return True
    person = session.get(Person, person_id)
    if person is None:
        return False
    if actor.has_role(Role.BROKER) and person.broker_id == actor.user_id:
        return True
    return bool(
        actor.has_role(Role.ADMIN)
        and actor.commissioner_id
        and person.commissioner_id == actor.commissioner_id
    )


def require_person_access(session: Session, actor: Actor, person_id: str) -> Person:
    """The person, if the actor may see them; otherwise 404."""
    if not can_see_person(session, actor, person_id):
        raise NotFound("No such person.")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("No such person.")
    return person


def require_organisation_access(actor: Actor, organisation_id: str) -> None:
    """Pass if the actor works for this provider organisation; otherwise 404."""
    if organisation_id not in actor.organisation_ids:
        raise NotFound("No such record.")


def require_role(actor: Actor, *roles: Role) -> None:
    """Pass if the actor holds one of the roles; otherwise 403 (a function they never have)."""
    if not actor.has_role(*roles):
        raise Forbidden("Your role cannot do this.")


def acting_as(actor: Actor, person_id: str | None) -> str:
    """The capacity in which the actor acts on this person's record (for the audit trail)."""
    if actor.is_back_office_client:
        return "back_office"
    if person_id is not None and person_id == actor.person_id:
        return "self"
    if person_id is not None and person_id in actor.represented_person_ids:
        return "representative"
    for role in (Role.BROKER, Role.ADMIN, Role.PROVIDER_STAFF):
        if actor.has_role(role):
            return str(role)
    return "other"


def audit_for_person(
    session: Session,
    *,
    actor: Actor,
    person_id: str | None,
    action: str,
    record_type: str,
    record_id: str | None,
    details: dict[str, Any] | None = None,
) -> str:
    """Record who acted (the user or client), for whom (the person) and in what capacity.

    Use it for every read or change of a person's records, so an action a representative
    takes for someone shows both of them.
    """
    return record_audit(
        session,
        actor=actor,
        action=action,
        record_type=record_type,
        record_id=record_id,
        subject_person_id=person_id,
        details={"acting_as": acting_as(actor, person_id), **(details or {})},
    )
