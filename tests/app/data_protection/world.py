"""Two sides of the access sweep: a person with records in every domain, and outsiders.

The victim side is a person (with a representative, a broker, an admin of their
commissioner, and provider staff of the organisation that serves them) holding records in
every domain. The outsider side has one user per role, none with any relation to the
victim. `RESOLVERS` turns each path parameter name into the id of a victim's record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.db import new_id
from app.notifications import notify
from auth.models import Person, User
from auth.roles import BACK_OFFICE_SCOPES
from budgets.payments.models import Payment
from budgets.providers.models import ProviderOrganisation
from employment import models as ips
from mobile_contract.notifications.models import DeviceToken
from tests.budgets.booking_builders import build_booking, build_claim
from tests.budgets.builders import build_approved_line
from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_admin,
    build_broker,
    build_offer,
    build_person_user,
    build_provider,
    build_provider_staff,
    build_representative,
)
from tests.employment.builders import build_referral, build_service, build_specialist

ROLES = (
    "person",
    "representative",
    "broker",
    "provider_staff",
    "admin",
    "back_office",
    "anonymous",
)


@dataclass
class World:
    person: Person
    person_user: User
    records: dict[str, Any] = field(default_factory=dict)
    outsiders: dict[str, dict[str, str]] = field(default_factory=dict)
    # The victim's own side: the person, their representative, broker, admin, provider.
    insiders: dict[str, dict[str, str]] = field(default_factory=dict)

    def victim_ids(self) -> set[str]:
        """Ids of the victim's private records (never to appear in an outsider's list)."""
        return {
            str(getattr(record, "id", record))
            for name, record in self.records.items()
            if name not in PUBLIC_RECORDS
        }


# Records anyone signed in may read: the directory of providers, offers and IPS services.
PUBLIC_RECORDS = {"service", "organisation", "offer", "member"}


def build_world(session: Session) -> World:
    person_user = build_person_user(session)
    person = session.get(Person, person_user.person_id)
    assert person is not None
    representative = build_representative(session, person=person)
    line = build_approved_line(session, person=person)
    organisation = build_provider(session)
    member = build_provider_staff(session, organisation=organisation)
    offer = build_offer(
        session,
        organisation=organisation,
        category=line.category,
        unit=line.unit,
        price_pence=line.unit_cost_pence,
    )
    booking = build_booking(session, line=line, offer=offer, units=1)
    claim = build_claim(session, booking=booking, status="submitted")
    service = build_service(session, organisation=organisation)
    specialist = build_specialist(session, service=service)
    broker = session.get(User, person.broker_id)
    assert broker is not None
    referral = build_referral(session, service=service, person_id=person.id)
    appointment = ips.Appointment(
        referral_id=referral.id, starts_at=datetime(2026, 12, 1, 10, tzinfo=UTC), mode="remote"
    )
    job = ips.Job(
        referral_id=referral.id,
        employer_name="Leeds Library",
        role="Library assistant",
        start_date=date(2026, 6, 1),
        hours_per_week=Decimal("16"),
        hourly_pay_pence=1250,
        is_competitive=True,
    )
    session.add_all([appointment, job, ips.VocationalProfile(referral_id=referral.id)])
    payment = Payment(
        claim_id=claim.id,
        booking_id=booking.id,
        organisation_id=organisation.id,
        plan_line_id=line.id,
        budget_id=line.plan.budget_id,
        person_id=person.id,
        amount_pence=1_000,
        status="paid",
        idempotency_key=f"payment-{new_id()}",
    )
    session.add(payment)
    device = DeviceToken(user_id=person_user.id, platform="ios", token=f"apns-{new_id()}")
    session.add(device)
    (notification,) = notify(
        session, user_ids=[person_user.id], kind="plan.decided", title="Your plan was approved"
    )
    session.flush()
    world = World(person=person, person_user=person_user)
    world.records.update(
        {
            "person": person,
            "budget": line.plan.budget_id,
            "plan": line.plan,
            "line": line,
            "organisation": organisation,
            "member": member,
            "offer": offer,
            "booking": booking,
            "claim": claim,
            "service": service,
            "specialist": specialist,
            "referral": referral,
            "appointment": appointment,
            "job": job,
            "payment": payment,
            "device": device,
            "notification": notification,
        }
    )
    world.outsiders = _outsiders(session)
    world.insiders = {
        "person": bearer_for(session, person_user),
        "representative": bearer_for(session, representative),
        "broker": bearer_for(session, broker),
        "provider_staff": bearer_for(session, member),
        "admin": bearer_for(session, build_admin(session, commissioner_id=person.commissioner_id)),
    }
    return world


def _outsiders(session: Session) -> dict[str, dict[str, str]]:
    someone_else = build_person_user(session)
    other_person = session.get(Person, someone_else.person_id)
    assert other_person is not None
    other_organisation: ProviderOrganisation = build_provider(session)
    return {
        "person": bearer_for(session, someone_else),
        "representative": bearer_for(session, build_representative(session, person=other_person)),
        "broker": bearer_for(session, build_broker(session)),
        "provider_staff": bearer_for(
            session, build_provider_staff(session, organisation=other_organisation)
        ),
        "admin": bearer_for(session, build_admin(session)),
        "back_office": bearer_for_back_office(
            session, other_organisation, scopes={str(s) for s in BACK_OFFICE_SCOPES}
        ),
        "anonymous": {},
    }


def _id(name: str) -> Callable[[World], str]:
    return lambda world: str(getattr(world.records[name], "id", world.records[name]))


# Path parameter -> the victim's record it names. A route with a parameter missing here
# fails the sweep: add the parameter (and the record to build_world) with the route.
RESOLVERS: dict[str, Callable[[World], Any]] = {
    "person_id": _id("person"),
    "budget_id": _id("budget"),
    "plan_id": _id("plan"),
    "line_id": _id("line"),
    "service_id": _id("service"),
    "specialist_id": _id("specialist"),
    "referral_id": _id("referral"),
    "appointment_id": _id("appointment"),
    "job_id": _id("job"),
    "organisation_id": _id("organisation"),
    "user_id": _id("member"),
    "offer_id": _id("offer"),
    "booking_id": _id("booking"),
    "claim_id": _id("claim"),
    "payment_id": _id("payment"),
    "device_id": _id("device"),
    "notification_id": _id("notification"),
    "year": lambda world: 2026,
    "month": lambda world: 4,
}


# Query arguments a GET needs to be answered at all (so the sweep reaches the access check).
QUERIES: dict[str, str] = {
    "/v1/employment/services/<service_id>/metrics": "period_start=2026-04-01&period_end=2027-03-31",
    "/v1/employment/services/<service_id>/metrics.csv": (
        "period_start=2026-04-01&period_end=2027-03-31"
    ),
}
