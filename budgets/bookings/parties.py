"""The two sides of a booking: the person (with their representatives and broker) and the
provider (its staff and back-office clients). Who may see it, who acts, who is told."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.domain_errors import InsufficientScope
from auth.access import can_see_person, visible_people_clause
from auth.actor import Actor
from auth.models import ProviderMembership, Representation, User
from auth.roles import Scope


class Side(StrEnum):
    PERSON = "person"
    PROVIDER = "provider"


def visible_clause(
    actor: Actor,
    person_id: InstrumentedAttribute[str],
    organisation_id: InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    """Rows of people the actor may see, or of the provider organisations they work for."""
    return or_(
        visible_people_clause(actor, person_id),
        organisation_id.in_(sorted(actor.organisation_ids)),
    )


def side_of(session: Session, actor: Actor, *, person_id: str, organisation_id: str) -> Side:
    """Which side the actor acts for, checking the token allows it (scope 403)."""
    if organisation_id in actor.organisation_ids:
        if str(Scope.BOOKINGS_MANAGE) not in actor.scopes:
            raise InsufficientScope(f"This needs the scope {Scope.BOOKINGS_MANAGE}.")
        return Side.PROVIDER
    if can_see_person(session, actor, person_id):
        if str(Scope.BOOKINGS_WRITE) not in actor.scopes:
            raise InsufficientScope(f"This needs the scope {Scope.BOOKINGS_WRITE}.")
        return Side.PERSON
    raise AssertionError("callers load the record through visible_clause first")


def person_side_user_ids(session: Session, person_id: str) -> list[str]:
    """The person's own login and their representatives' (not the broker's)."""
    own = session.scalars(select(User.id).where(User.person_id == person_id))
    representatives = session.scalars(
        select(Representation.representative_id).where(
            Representation.person_id == person_id, Representation.ended_at.is_(None)
        )
    )
    return [*own, *representatives]


def provider_staff_column(
    organisation_id: InstrumentedAttribute[str],
) -> ColumnElement[str | None]:
    """Everyone who works for the organisation, as a correlated column (space-separated
    ids, or NULL): a query that already reads the organisation reads them too."""
    return (
        select(func.aggregate_strings(ProviderMembership.user_id, " "))
        .where(ProviderMembership.organisation_id == organisation_id)
        .scalar_subquery()
    )


def provider_user_ids(session: Session, organisation_id: str) -> list[str]:
    """Everyone who works for the organisation."""
    return list(
        session.scalars(
            select(ProviderMembership.user_id).where(
                ProviderMembership.organisation_id == organisation_id
            )
        )
    )


READ_SCOPES = (Scope.BOOKINGS_WRITE, Scope.BOOKINGS_MANAGE, Scope.BUDGETS_READ)


def require_read_scope(actor: Actor) -> None:
    """Bookings and claims are read with any of the booking scopes, or budgets:read."""
    if not any(str(scope) in actor.scopes for scope in READ_SCOPES):
        raise InsufficientScope("This needs bookings:write, bookings:manage or budgets:read.")
