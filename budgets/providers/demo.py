"""Demo providers and offers: Bright Days Care (from the accounts demo) verified with
offers, plus a charity and a self-employed personal assistant, across categories and areas.

Idempotent: organisations are found by name and offers by organisation and title.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from budgets.providers.areas import parse_area, postcode_district
from budgets.providers.models import OrganisationStatus, ProviderArea, ProviderOrganisation
from budgets.providers.offers.models import Offer, OfferArea, OfferStatus

_ORGANISATIONS: list[dict[str, Any]] = [
    {
        "name": "Bright Days Care",
        "kind": "company",
        "delivers_regulated_care": True,
        "cqc_registration_number": "1-101234567",
        "contact_email": "hello@brightdays.example",
        "contact_phone": "0113 496 0000",
        "areas": ["LS6", "LS7", "LS11", "E08000035"],
    },
    {
        "name": "Leeds Wellbeing Trust",
        "kind": "charity",
        "delivers_regulated_care": False,
        "contact_email": "info@leedswellbeing.example",
        "areas": ["LS1", "LS6", "LS11"],
    },
    {
        "name": "Jo Patel, Personal Assistant",
        "kind": "individual",
        "delivers_regulated_care": False,
        "contact_email": "jo.patel.pa@example.com",
        "areas": ["LS6", "LS16"],
    },
]

# (organisation, title, category, unit, price pence, modes, premises postcode, description)
_OFFERS: list[tuple[str, str, str, str, int, tuple[str, ...], str | None, str]] = [
    (
        "Bright Days Care",
        "Personal assistant hours",
        "personal_assistant",
        "hour",
        1600,
        ("in_person",),
        None,
        "Help at home and out and about: personal care, shopping, trips.",
    ),
    (
        "Bright Days Care",
        "Overnight respite stay",
        "short_breaks",
        "day",
        16500,
        ("at_premises",),
        "LS11 5QT",
        "A short break in our respite house with 24-hour staff.",
    ),
    (
        "Bright Days Care",
        "Accessible transport to appointments",
        "transport",
        "session",
        2500,
        ("in_person",),
        None,
        "Door-to-door wheelchair-accessible transport within Leeds.",
    ),
    (
        "Leeds Wellbeing Trust",
        "Art therapy group",
        "therapy",
        "session",
        3000,
        ("at_premises", "online"),
        "LS1 4AP",
        "Weekly art therapy with a registered therapist.",
    ),
    (
        "Leeds Wellbeing Trust",
        "Swimming and gym sessions",
        "activities",
        "session",
        800,
        ("at_premises",),
        "LS6 3HN",
        "Supported swimming and gym with an instructor.",
    ),
    (
        "Leeds Wellbeing Trust",
        "Digital skills course",
        "education_training",
        "week",
        4500,
        ("online",),
        None,
        "Learn to use a tablet, video calls and online shopping at your pace.",
    ),
    (
        "Jo Patel, Personal Assistant",
        "Personal assistant support",
        "personal_assistant",
        "hour",
        1550,
        ("in_person",),
        None,
        "Flexible PA support; I speak English, Gujarati and Punjabi.",
    ),
]


def _organisation(session: Session, spec: dict[str, Any]) -> ProviderOrganisation:
    values = {k: v for k, v in spec.items() if k != "areas"}
    organisation = session.scalars(
        select(ProviderOrganisation).where(ProviderOrganisation.name == spec["name"])
    ).first()
    if organisation is None:
        organisation = ProviderOrganisation(**values)
        session.add(organisation)
    elif organisation.contact_email is None:
        for field, value in values.items():
            setattr(organisation, field, value)
    if organisation.status != OrganisationStatus.VERIFIED:
        organisation.status = OrganisationStatus.VERIFIED
        organisation.status_changed_at = utcnow()
    if not organisation.areas:
        organisation.areas = [
            ProviderArea(code=code, kind=str(parse_area(code)[0])) for code in spec["areas"]
        ]
    session.flush()
    return organisation


def seed_providers(session: Session) -> dict[str, ProviderOrganisation]:
    """Verify the demo providers and give them published offers (idempotent)."""
    organisations = {spec["name"]: _organisation(session, spec) for spec in _ORGANISATIONS}
    for org_name, title, category, unit, price, modes, premises, description in _OFFERS:
        organisation = organisations[org_name]
        exists = session.scalar(
            select(Offer.id).where(Offer.organisation_id == organisation.id, Offer.title == title)
        )
        if exists:
            continue
        offer = Offer(
            organisation_id=organisation.id,
            title=title,
            description=description,
            category=category,
            unit=unit,
            price_pence=price,
            delivers_in_person="in_person" in modes,
            delivers_online="online" in modes,
            delivers_at_premises="at_premises" in modes,
            premises_postcode=premises,
            languages=["en", "gu", "pa"] if "Gujarati" in description else ["en"],
            cancellation_notice_hours=24,
            cancellation_charge_percent=50 if unit in ("day", "hour") else 0,
            status=OfferStatus.PUBLISHED,
            published_at=utcnow(),
        )
        areas = [OfferArea(via="in_person", code=a.code) for a in organisation.areas]
        offer.areas = areas if "in_person" in modes else []
        if premises:
            offer.areas.append(OfferArea(via="at_premises", code=postcode_district(premises)))
        session.add(offer)
    session.flush()
    return organisations
