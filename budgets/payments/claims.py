"""What payments needs from claims (owned by budgets/bookings), as one small interface.

A claim is payable once the person confirmed it (or the window closed). Payments reads a
snapshot of it, and tells the claim when it was paid or when paying it failed.
`BookingClaims` reads bookings' claims table; `use_claim_book` swaps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain_errors import NotFound
from budgets.bookings.models import Claim
from budgets.payments.models import Payment

# Bookings' confirmed claims are payable (confirmed by the person or at the window's end).
# A claim whose payment failed stays confirmed: a person may pay it again (not the worker).
PAYABLE_CLAIM_STATUSES = frozenset({"confirmed"})


@dataclass(frozen=True)
class PayableClaim:
    """The facts of a claim that paying it needs."""

    claim_id: str
    booking_id: str
    organisation_id: str
    plan_line_id: str
    amount_pence: int
    currency: str
    status: str

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE_CLAIM_STATUSES


class ClaimBook(Protocol):
    """Reads claims and records what happened to their payment (add/flush, never commit)."""

    def payable_claim(self, session: Session, *, claim_id: str) -> PayableClaim: ...

    def unpaid_confirmed_claim_ids(self, session: Session, *, limit: int) -> list[str]:
        """Confirmed claims with no payment yet, oldest first (not those whose payment failed:
        a person decides when to try again)."""
        ...

    def mark_paid(self, session: Session, *, claim_id: str, payment_id: str) -> None: ...

    def mark_payment_failed(
        self, session: Session, *, claim_id: str, payment_id: str, reason: str
    ) -> None: ...


class BookingClaims:
    """Claims from budgets/bookings: a `confirmed` claim is payable.

    The payment record is where paid or failed is kept (a confirmed claim stays confirmed
    in bookings' state machine), so marking a claim adds nothing to the claims table.
    """

    def payable_claim(self, session: Session, *, claim_id: str) -> PayableClaim:
        claim = session.get(Claim, claim_id)
        if claim is None:
            raise NotFound("No such claim.")
        return PayableClaim(
            claim_id=claim.id,
            booking_id=claim.booking_id,
            organisation_id=claim.organisation_id,
            plan_line_id=claim.plan_line_id,
            amount_pence=claim.amount_pence,
            currency=claim.currency,
            status=claim.status,
        )

    def unpaid_confirmed_claim_ids(self, session: Session, *, limit: int) -> list[str]:
        return list(
            session.scalars(
                select(Claim.id)
                .where(
                    Claim.status == "confirmed",
                    ~select(Payment.id).where(Payment.claim_id == Claim.id).exists(),
                )
                .order_by(Claim.confirmed_at, Claim.id)
                .limit(limit)
            )
        )

    def mark_paid(self, session: Session, *, claim_id: str, payment_id: str) -> None:
        return None

    def mark_payment_failed(
        self, session: Session, *, claim_id: str, payment_id: str, reason: str
    ) -> None:
        return None


_book: ClaimBook = BookingClaims()


def claim_book() -> ClaimBook:
    """The claims implementation in use."""
    return _book


def use_claim_book(book: ClaimBook) -> ClaimBook:
    """Use `book` for claims from now on; returns the previous one (to restore it)."""
    global _book
    previous, _book = _book, book
    return previous
