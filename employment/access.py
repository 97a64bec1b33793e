"""Who may see and change IPS records.

- the person (or their representative) sees their own referrals and what hangs off them;
- their support broker sees the people on their caseload;
- staff of the provider running the service (and its back-office client with
  `employment:manage`) see and change the service's records;
- admins of the commissioner funding a service see its metrics, not individual records.
Anything else is a 404, so ids cannot be probed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session, lazyload

from app.domain_errors import InsufficientScope, NotFound
from auth.actor import Actor
from auth.models import Person
from auth.roles import Role, Scope
from employment.models import IpsService, Referral

READ_SCOPES = (str(Scope.EMPLOYMENT_READ), str(Scope.EMPLOYMENT_MANAGE))


def require_read_scope(actor: Actor) -> None:
    """Pass if the token may read employment records at all (read or manage scope)."""
    if not any(scope in actor.scopes for scope in READ_SCOPES):
        raise InsufficientScope("This needs the scope employment:read or employment:manage.")


def staffed_service_ids(actor: Actor) -> ColumnElement[bool]:
    """SQL: the services run by the actor's provider organisations."""
    if not actor.organisation_ids or str(Scope.EMPLOYMENT_MANAGE) not in actor.scopes:
        return false()
    return IpsService.provider_organisation_id.in_(sorted(actor.organisation_ids))


def visible_referrals_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL: referrals the actor may see (own, broker caseload, their organisation's service)."""
    conditions: list[ColumnElement[bool]] = []
    if actor.own_person_ids:
        conditions.append(Referral.person_id.in_(sorted(actor.own_person_ids)))
    if actor.has_role(Role.BROKER) and actor.user_id:
        conditions.append(
            Referral.person_id.in_(select(Person.id).where(Person.broker_id == actor.user_id))
        )
    if actor.organisation_ids and str(Scope.EMPLOYMENT_MANAGE) in actor.scopes:
        conditions.append(
            Referral.service_id.in_(select(IpsService.id).where(staffed_service_ids(actor)))
        )
    return or_(*conditions) if conditions else false()


def runs_service(actor: Actor, service: IpsService) -> bool:
    """Whether the actor works for (or is the back office of) the provider running it."""
    return (
        str(Scope.EMPLOYMENT_MANAGE) in actor.scopes
        and service.provider_organisation_id in actor.organisation_ids
    )


def require_staffed_service(session: Session, actor: Actor, service_id: str) -> IpsService:
    """The service, if the actor's organisation runs it; otherwise 404."""
    service = session.get(IpsService, service_id)
    if service is None or not runs_service(actor, service):
        raise NotFound("No such IPS service.")
    return service


def require_metrics_access(session: Session, actor: Actor, service_id: str) -> IpsService:
    """The service, if the actor runs it or is an admin of its commissioner; otherwise 404.
    Its areas load only if asked for: no measure needs them."""
    service = session.get(IpsService, service_id, options=[lazyload(IpsService.areas)])
    if service is None:
        raise NotFound("No such IPS service.")
    if runs_service(actor, service):
        return service
    if (
        actor.has_role(Role.ADMIN)
        and actor.commissioner_id
        and actor.commissioner_id == service.commissioner_id
    ):
        return service
    raise NotFound("No such IPS service.")


def require_visible_referral(
    session: Session, actor: Actor, referral_id: str, *, for_update: bool = False
) -> Referral:
    """The referral, if the actor may see it; otherwise 404."""
    stmt = select(Referral).where(Referral.id == referral_id, visible_referrals_clause(actor))
    if for_update:
        stmt = stmt.with_for_update()
    referral = session.scalars(stmt).first()
    if referral is None:
        raise NotFound("No such referral.")
    return referral


def require_managed_referral(
    session: Session, actor: Actor, referral_id: str, *, for_update: bool = False
) -> Referral:
    """The referral, if the actor's organisation runs its service; otherwise 404."""
    stmt = select(Referral).where(
        Referral.id == referral_id,
        Referral.service_id.in_(select(IpsService.id).where(staffed_service_ids(actor))),
    )
    if for_update:
        stmt = stmt.with_for_update()
    referral = session.scalars(stmt).first()
    if referral is None:
        raise NotFound("No such referral.")
    return referral
