"""Keyword builders for IPS test data (flush, never commit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from auth.models import Commissioner, User
from budgets.providers.models import ProviderOrganisation
from employment.models import EmploymentSpecialist, IpsService, Referral, ServiceArea
from tests.builders import build_commissioner, build_provider, build_provider_staff


def build_service(
    session: Session,
    *,
    organisation: ProviderOrganisation | None = None,
    commissioner: Commissioner | None = None,
    areas: tuple[str, ...] = ("LS6",),
    **overrides: Any,
) -> IpsService:
    organisation = organisation or build_provider(session)
    commissioner = commissioner or build_commissioner(session)
    values: dict[str, Any] = {
        "provider_organisation_id": organisation.id,
        "commissioner_id": commissioner.id,
        "name": "Test IPS service",
        "integrated_teams": ["North CMHT"],
        "contact_email": "ips@test.example",
        "areas": [ServiceArea(postcode_district=a) for a in areas],
    }
    values.update(overrides)
    service = IpsService(**values)
    session.add(service)
    session.flush()
    return service


def build_specialist(
    session: Session, *, service: IpsService, fte: str = "1.00", user: User | None = None
) -> EmploymentSpecialist:
    if user is None:
        organisation = session.get(ProviderOrganisation, service.provider_organisation_id)
        user = build_provider_staff(session, organisation=organisation, membership_role="staff")
    specialist = EmploymentSpecialist(service_id=service.id, user_id=user.id, fte=Decimal(fte))
    session.add(specialist)
    session.flush()
    return specialist


def build_referral(
    session: Session, *, service: IpsService, person_id: str, **overrides: Any
) -> Referral:
    values: dict[str, Any] = {
        "service_id": service.id,
        "person_id": person_id,
        "source": "self",
        "received_on": date(2025, 4, 1),
        "in_work_at_referral": False,
    }
    values.update(overrides)
    referral = Referral(**values)
    session.add(referral)
    session.flush()
    return referral
