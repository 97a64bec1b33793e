"""Builders for payments tests: a ready provider, a confirmed claim with money committed.

Claims belong to budgets/bookings; until its implementation is wired in, `FakeClaimBook`
stands behind the `budgets.payments.claims.ClaimBook` interface.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_id
from app.domain_errors import NotFound
from auth.actor import Actor
from auth.models import Person, User
from budgets.ledger import service as ledger
from budgets.payments.claims import PayableClaim
from budgets.payments.models import Payment, ProviderStripeAccount
from budgets.plans.models import PlanLine
from budgets.providers.models import ProviderOrganisation
from tests.budgets.builders import build_approved_line
from tests.builders import build_admin, build_provider, build_provider_staff
from tests.fake_stripe import FakeStripe


class FakeClaimBook:
    """Claims kept in memory (thread-safe), recording what payments told them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.claims: dict[str, PayableClaim] = {}
        self.paid: dict[str, str] = {}
        self.failed: dict[str, str] = {}

    def add(self, claim: PayableClaim) -> PayableClaim:
        with self._lock:
            self.claims[claim.claim_id] = claim
        return claim

    def payable_claim(self, session: Session, *, claim_id: str) -> PayableClaim:
        with self._lock:
            claim = self.claims.get(claim_id)
        if claim is None:
            raise NotFound("No such claim.")
        return claim

    def unpaid_confirmed_claim_ids(self, session: Session, *, limit: int) -> list[str]:
        with_payment = set(session.scalars(select(Payment.claim_id)))
        with self._lock:
            return [
                c.claim_id
                for c in self.claims.values()
                if c.status in {"confirmed", "auto_confirmed"} and c.claim_id not in with_payment
            ][:limit]

    def mark_paid(self, session: Session, *, claim_id: str, payment_id: str) -> None:
        with self._lock:
            self.paid[claim_id] = payment_id
            self.claims[claim_id] = replace(self.claims[claim_id], status="paid")

    def mark_payment_failed(
        self, session: Session, *, claim_id: str, payment_id: str, reason: str
    ) -> None:
        with self._lock:
            self.failed[claim_id] = reason
            self.claims[claim_id] = replace(self.claims[claim_id], status="payment_failed")


@dataclass
class PaymentWorld:
    """A person's approved plan line, a ready provider, and the admin who pays."""

    line: PlanLine
    organisation: ProviderOrganisation
    owner: User
    admin: User
    stripe_account_id: str

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
    remote = fake._create_account({"metadata": {"organisation_id": organisation.id}})
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
    session: Session, fake: FakeStripe, *, line_pence: int = 50_000, ready: bool = True
) -> PaymentWorld:
    line = build_approved_line(session, line_pence=line_pence)
    person = session.get(Person, line.plan.person_id)
    assert person is not None
    admin = build_admin(session, commissioner_id=person.commissioner_id)
    organisation, owner, account_id = build_ready_provider(session, fake, ready=ready)
    return PaymentWorld(line, organisation, owner, admin, account_id)


def build_claim(
    session: Session,
    book: FakeClaimBook,
    world: PaymentWorld,
    *,
    amount_pence: int = 5_000,
    status: str = "confirmed",
    commit_pence: int | None = None,
) -> PayableClaim:
    """A claim for a booking whose money is committed on the world's plan line."""
    booking_id = new_id()
    ledger.commit_funds(
        session,
        plan_line_id=world.line.id,
        amount_pence=commit_pence if commit_pence is not None else amount_pence,
        cause_type="booking",
        cause_id=booking_id,
        actor=None,
    )
    session.flush()
    return book.add(
        PayableClaim(
            claim_id=new_id(),
            booking_id=booking_id,
            organisation_id=world.organisation.id,
            plan_line_id=world.line.id,
            amount_pence=amount_pence,
            currency="GBP",
            status=status,
        )
    )
