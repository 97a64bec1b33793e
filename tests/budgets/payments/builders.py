"""Builders for payments tests: a ready provider, a confirmed claim with money committed.

Claims are bookings' own (tests/budgets/booking_builders), read by payments through
`budgets.payments.claims.BookingClaims`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.actor import Actor
from auth.models import Person, User
from budgets.bookings.models import Booking, Claim
from budgets.payments.models import Payment, ProviderStripeAccount
from budgets.plans.models import PlanLine
from budgets.providers.models import ProviderOrganisation
from tests.budgets.booking_builders import build_booking
from tests.budgets.booking_builders import build_claim as build_booking_claim
from tests.budgets.builders import build_approved_line
from tests.builders import build_admin, build_offer, build_provider, build_provider_staff
from tests.fake_stripe import FakeStripe

UNIT_PRICE = 100  # pence per unit of the world's offer, so any whole-pound amount books


@dataclass
class PaymentWorld:
    """A person's approved plan line, a ready provider with an offer, and the admin who pays."""

    line: PlanLine
    organisation: ProviderOrganisation
    owner: User
    admin: User
    stripe_account_id: str
    offer: Any

    @property
    def budget_id(self) -> str:
        return self.line.plan.budget_id

    @property
    def admin_actor(self) -> Actor:
        return Actor(
            user_id=self.admin.id,
            client_id=None,
            roles=frozenset({"admin"}),
            commissioner_id=self.admin.commissioner_id,
        )


def build_ready_provider(
    session: Session, fake: FakeStripe, *, ready: bool = True
) -> tuple[ProviderOrganisation, User, str]:
    organisation = build_provider(session)
    owner = build_provider_staff(session, organisation=organisation)
    remote = fake.create_account_directly(organisation_id=organisation.id)
    if ready:
        fake.complete_onboarding(remote["id"])
    session.add(
        ProviderStripeAccount(
            organisation_id=organisation.id,
            stripe_account_id=remote["id"],
            details_submitted=ready,
            charges_enabled=ready,
            payouts_enabled=ready,
            transfers_capability="active" if ready else "inactive",
            requirements_due=[] if ready else ["external_account"],
        )
    )
    session.flush()
    return organisation, owner, remote["id"]


def build_world(
    session: Session,
    fake: FakeStripe,
    *,
    line_pence: int = 50_000,
    ready: bool = True,
    person: Person | None = None,
) -> PaymentWorld:
    line = build_approved_line(session, person=person, line_pence=line_pence)
    person = session.get(Person, line.plan.person_id)
    assert person is not None
    admin = build_admin(session, commissioner_id=person.commissioner_id)
    organisation, owner, account_id = build_ready_provider(session, fake, ready=ready)
    offer = build_offer(
        session,
        organisation=organisation,
        category=line.category,
        unit=line.unit,
        price_pence=UNIT_PRICE,
    )
    return PaymentWorld(line, organisation, owner, admin, account_id, offer)


def build_claim(
    session: Session,
    world: PaymentWorld,
    *,
    amount_pence: int = 5_000,
    status: str = "confirmed",
    commit_pence: int | None = None,
    booking: Booking | None = None,
) -> Claim:
    """A claim for a booking whose money is committed on the world's plan line.

    With `booking`, another claim (a later delivery) on that booking, committing nothing more.
    """
    if booking is None:
        units = (commit_pence if commit_pence is not None else amount_pence) // UNIT_PRICE
        booking = build_booking(session, line=world.line, offer=world.offer, units=units)
    delivered = len(session.scalars(select(Claim.id).where(Claim.booking_id == booking.id)).all())
    return build_booking_claim(
        session,
        booking=booking,
        units=amount_pence // UNIT_PRICE,
        status=status,
        delivered_on=booking.start_date + timedelta(days=delivered),
    )


def payment_of(session: Session, claim: Claim, status: str | None = None) -> Payment | None:
    """The claim's payment (the one with `status`, when given)."""
    query = select(Payment).where(Payment.claim_id == claim.id)
    if status is not None:
        query = query.where(Payment.status == status)
    return session.scalars(query.execution_options(populate_existing=True)).first()
