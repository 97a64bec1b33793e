"""IPS services and specialists: set up a service, add specialists, see caseloads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.domain_errors import Conflict, NotFound, RuleViolation, ValidationFailed
from app.pagination import Page, PageRequest, keyset_page
from app.versioning import check_if_match
from auth.access import require_organisation_access
from auth.actor import Actor
from auth.models import Commissioner, ProviderMembership, User
from budgets.providers.models import ProviderOrganisation
from employment.access import require_staffed_service
from employment.models import Contact, EmploymentSpecialist, IpsService, Referral, ServiceArea
from employment.rules import ACTIVE_WINDOW, ON_CASELOAD_STATES
from employment.trail import audit


def _areas(districts: list[str]) -> list[ServiceArea]:
    return [ServiceArea(postcode_district=d) for d in sorted({d.upper() for d in districts})]


def create_service(
    session: Session,
    *,
    actor: Actor,
    provider_organisation_id: str,
    commissioner_id: str,
    name: str,
    areas_served: list[str],
    integrated_teams: list[str],
    contact_email: str,
    contact_phone: str | None,
    caseload_limit_per_fte: int,
) -> IpsService:
    """Set up an IPS service run by the actor's (verified) provider organisation."""
    require_organisation_access(actor, provider_organisation_id)
    organisation = session.get(ProviderOrganisation, provider_organisation_id)
    if organisation is None:
        raise NotFound("No such record.")
    if organisation.status != "verified":
        raise RuleViolation(
            "provider-not-verified",
            "Only a verified provider organisation can run an IPS service.",
        )
    if session.get(Commissioner, commissioner_id) is None:
        raise ValidationFailed({"commissioner_id": ["No such commissioner."]})
    service = IpsService(
        provider_organisation_id=provider_organisation_id,
        commissioner_id=commissioner_id,
        name=name,
        areas=_areas(areas_served),
        integrated_teams=integrated_teams,
        contact_email=contact_email,
        contact_phone=contact_phone,
        caseload_limit_per_fte=caseload_limit_per_fte,
    )
    session.add(service)
    session.flush()
    audit(
        session,
        actor=actor,
        action="service.create",
        record_type="ips_service",
        record_id=service.id,
    )
    session.commit()
    return service


def find_services(
    session: Session, *, actor: Actor, postcode_district: str | None, page: PageRequest
) -> Page[IpsService]:
    """Active IPS services, optionally only those covering a postcode district."""
    stmt = select(IpsService).where(IpsService.is_active.is_(True))
    if postcode_district:
        stmt = stmt.where(
            exists().where(
                ServiceArea.service_id == IpsService.id,
                ServiceArea.postcode_district == postcode_district.upper(),
            )
        )
    return keyset_page(
        session, stmt, keys=[IpsService.id], page=page, scope=f"ips-services:{postcode_district}"
    )


def get_service(session: Session, *, actor: Actor, service_id: str) -> IpsService:
    """One IPS service's public details (active services, or any the actor runs)."""
    service = session.get(IpsService, service_id)
    if service is None:
        raise NotFound("No such IPS service.")
    if not service.is_active and service.provider_organisation_id not in actor.organisation_ids:
        raise NotFound("No such IPS service.")
    return service


def update_service(
    session: Session,
    *,
    actor: Actor,
    service_id: str,
    if_match: list[str] | None,
    changes: dict[str, Any],
) -> IpsService:
    """Change a service's details, areas or caseload limit (If-Match required)."""
    require_staffed_service(session, actor, service_id)
    service = session.scalars(
        select(IpsService).where(IpsService.id == service_id).with_for_update()
    ).one()
    check_if_match(if_match, service.id, service.version)
    if "areas_served" in changes:
        service.areas = _areas(changes.pop("areas_served"))
    for field, value in changes.items():
        setattr(service, field, value)
    service.version += 1
    audit(
        session,
        actor=actor,
        action="service.update",
        record_type="ips_service",
        record_id=service.id,
        fields=sorted(changes),
    )
    session.commit()
    return service


@dataclass(frozen=True)
class Caseload:
    """A specialist's caseload against their limit."""

    open: int
    active: int
    limit: int

    @property
    def over_limit(self) -> bool:
        return self.open > self.limit


def caseload_limit(service: IpsService, specialist: EmploymentSpecialist) -> int:
    """The most people this specialist should hold: the per-FTE limit times their FTE."""
    limit = Decimal(service.caseload_limit_per_fte) * Decimal(specialist.fte)
    return int(limit.to_integral_value(rounding=ROUND_FLOOR))


def caseload_of(
    session: Session, *, service: IpsService, specialist: EmploymentSpecialist, as_of: date
) -> Caseload:
    """Open and active (contact in the last 4 weeks) referrals held by a specialist."""
    return caseloads_of(session, service=service, specialists=[specialist], as_of=as_of)[
        specialist.id
    ]


def caseloads_of(
    session: Session,
    *,
    service: IpsService,
    specialists: Sequence[EmploymentSpecialist],
    as_of: date,
) -> dict[str, Caseload]:
    """`caseload_of` for several specialists in two grouped queries, whatever their number."""
    ids = [s.id for s in specialists]
    if not ids:
        return {}
    on_caseload = (
        Referral.specialist_id.in_(ids),
        Referral.status.in_(ON_CASELOAD_STATES),
    )
    recent = exists().where(
        Contact.referral_id == Referral.id,
        Contact.with_whom == "person",
        Contact.occurred_on > as_of - ACTIVE_WINDOW,
        Contact.occurred_on <= as_of,
    )
    counted = select(Referral.specialist_id, func.count()).group_by(Referral.specialist_id)
    open_counts = {sid: n for sid, n in session.execute(counted.where(*on_caseload))}
    active_counts = {sid: n for sid, n in session.execute(counted.where(*on_caseload, recent))}
    return {
        s.id: Caseload(
            open=int(open_counts.get(s.id, 0)),
            active=int(active_counts.get(s.id, 0)),
            limit=caseload_limit(service, s),
        )
        for s in specialists
    }


def describe_specialist(
    session: Session, specialist: EmploymentSpecialist, service: IpsService, as_of: date
) -> dict[str, Any]:
    return describe_specialists(session, [specialist], service, as_of)[0]


def describe_specialists(
    session: Session,
    specialists: Sequence[EmploymentSpecialist],
    service: IpsService,
    as_of: date,
) -> list[dict[str, Any]]:
    """Specialists with their names and caseloads, in a fixed number of queries."""
    user_ids = sorted({s.user_id for s in specialists})
    names: dict[str, str] = {}
    if user_ids:
        rows = session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
        names = {user_id: name for user_id, name in rows}
    caseloads = caseloads_of(session, service=service, specialists=specialists, as_of=as_of)
    return [
        {
            "id": specialist.id,
            "service_id": specialist.service_id,
            "user_id": specialist.user_id,
            "display_name": names.get(specialist.user_id),
            "fte": specialist.fte,
            "is_active": specialist.is_active,
            "version": specialist.version,
            "caseload": {
                "open": caseloads[specialist.id].open,
                "active": caseloads[specialist.id].active,
                "limit": caseloads[specialist.id].limit,
                "over_limit": caseloads[specialist.id].over_limit,
            },
        }
        for specialist in specialists
    ]


def add_specialist(
    session: Session, *, actor: Actor, service_id: str, user_id: str, fte: Decimal, today: date
) -> dict[str, Any]:
    """Add one of the provider's staff to the service as an employment specialist."""
    service = require_staffed_service(session, actor, service_id)
    is_staff = session.scalar(
        select(ProviderMembership.id).where(
            ProviderMembership.user_id == user_id,
            ProviderMembership.organisation_id == service.provider_organisation_id,
        )
    )
    if is_staff is None:
        raise RuleViolation(
            "not-provider-staff",
            "An employment specialist must be a member of the provider's staff.",
        )
    already = session.scalar(
        select(EmploymentSpecialist.id).where(
            EmploymentSpecialist.service_id == service.id, EmploymentSpecialist.user_id == user_id
        )
    )
    if already is not None:
        raise Conflict("This person is already a specialist in this service.")
    specialist = EmploymentSpecialist(service_id=service.id, user_id=user_id, fte=fte)
    session.add(specialist)
    session.flush()
    audit(
        session,
        actor=actor,
        action="specialist.create",
        record_type="ips_specialist",
        record_id=specialist.id,
        fte=str(fte),
    )
    session.commit()
    return describe_specialist(session, specialist, service, today)


def list_specialists(
    session: Session, *, actor: Actor, service_id: str, page: PageRequest, today: date
) -> dict[str, Any]:
    """The service's specialists with each one's caseload against the limit."""
    service = require_staffed_service(session, actor, service_id)
    result = keyset_page(
        session,
        select(EmploymentSpecialist).where(EmploymentSpecialist.service_id == service.id),
        keys=[EmploymentSpecialist.id],
        page=page,
        scope=f"ips-specialists:{service.id}",
    )
    return {
        "items": describe_specialists(session, result.items, service, today),
        "next_cursor": result.next_cursor,
    }


def require_specialist(
    session: Session, *, actor: Actor, specialist_id: str, for_update: bool = False
) -> tuple[EmploymentSpecialist, IpsService]:
    """A specialist in a service the actor runs; otherwise 404."""
    stmt = select(EmploymentSpecialist).where(EmploymentSpecialist.id == specialist_id)
    if for_update:
        stmt = stmt.with_for_update()
    specialist = session.scalars(stmt).first()
    if specialist is None:
        raise NotFound("No such specialist.")
    try:
        service = require_staffed_service(session, actor, specialist.service_id)
    except NotFound as exc:
        raise NotFound("No such specialist.") from exc
    return specialist, service


def get_specialist(
    session: Session, *, actor: Actor, specialist_id: str, today: date
) -> dict[str, Any]:
    """One specialist and their caseload."""
    specialist, service = require_specialist(session, actor=actor, specialist_id=specialist_id)
    return describe_specialist(session, specialist, service, today)


def update_specialist(
    session: Session,
    *,
    actor: Actor,
    specialist_id: str,
    if_match: list[str] | None,
    changes: dict[str, Any],
    today: date,
) -> dict[str, Any]:
    """Change a specialist's FTE or stop them taking people (If-Match required)."""
    specialist, service = require_specialist(
        session, actor=actor, specialist_id=specialist_id, for_update=True
    )
    check_if_match(if_match, specialist.id, specialist.version)
    for field, value in changes.items():
        setattr(specialist, field, value)
    specialist.version += 1
    audit(
        session,
        actor=actor,
        action="specialist.update",
        record_type="ips_specialist",
        record_id=specialist.id,
        fields=sorted(changes),
    )
    session.commit()
    return describe_specialist(session, specialist, service, today)
