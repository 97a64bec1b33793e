"""What payments needs from claims (owned by budgets/bookings), as one small interface.

A claim is payable once the person confirmed it (or the window closed). Payments reads a
snapshot of it, and tells the claim when it was paid or when paying it failed. The
bookings package provides the implementation; `use_claim_book` swaps it (tests do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from app.domain_errors import NotFound

# A claim whose payment failed definitively may be paid again (by a person, not the worker).
PAYABLE_CLAIM_STATUSES = frozenset({"confirmed", "auto_confirmed", "payment_failed"})


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


class _NoClaims:
    """Until bookings provides claims, every claim id is unknown."""

    def payable_claim(self, session: Session, *, claim_id: str) -> PayableClaim:
        raise NotFound("No such claim.")

    def unpaid_confirmed_claim_ids(self, session: Session, *, limit: int) -> list[str]:
        return []

    def mark_paid(self, session: Session, *, claim_id: str, payment_id: str) -> None:
        return None

    def mark_payment_failed(
        self, session: Session, *, claim_id: str, payment_id: str, reason: str
    ) -> None:
        return None


_book: ClaimBook = _NoClaims()


def claim_book() -> ClaimBook:
    """The claims implementation in use."""
    return _book


def use_claim_book(book: ClaimBook) -> ClaimBook:
    """Use `book` for claims from now on; returns the previous one (to restore it)."""
    global _book
    previous, _book = _book, book
    return previous
