"""Claims as payments sees them: the bookings side of payments' `ClaimBook` interface
(`budgets/payments/claims.py`). Payments reads a payable claim's facts and records here
when it was paid or when paying it failed. Everything adds and flushes; payments commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import NotFound
from budgets.bookings.models import CLAIM_TRANSITIONS, Claim, ClaimStatus, move


class BookingsClaimBook:
    """The claims of budgets/bookings, for payments."""

    def payable_claim(self, session: Session, *, claim_id: str) -> Any:
        """A snapshot of the claim (payments' `PayableClaim`); 404 when there is none."""
        from budgets.payments.claims import PayableClaim

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
        """Confirmed claims not yet paid, oldest confirmation first (failed ones wait for
        a person to try again)."""
        return list(
            session.scalars(
                select(Claim.id)
                .where(Claim.status == ClaimStatus.CONFIRMED)
                .order_by(Claim.confirmed_at, Claim.id)
                .limit(limit)
            )
        )

    def mark_paid(self, session: Session, *, claim_id: str, payment_id: str) -> None:
        """Payments transferred the money for this claim."""
        claim = _locked(session, claim_id)
        if claim.status == ClaimStatus.PAID and claim.payment_id == payment_id:
            return
        claim.status = move(claim.status, ClaimStatus.PAID, CLAIM_TRANSITIONS, "claim")
        claim.payment_id = payment_id
        claim.paid_at = utcnow()
        claim.payment_failure_reason = None
        claim.version += 1
        _audit(session, claim, "claim.paid", payment_id=payment_id)
        session.flush()

    def mark_payment_failed(
        self, session: Session, *, claim_id: str, payment_id: str, reason: str
    ) -> None:
        """Paying this claim failed definitively; a person may try again."""
        claim = _locked(session, claim_id)
        claim.status = move(claim.status, ClaimStatus.PAYMENT_FAILED, CLAIM_TRANSITIONS, "claim")
        claim.payment_id = payment_id
        claim.payment_failure_reason = reason[:1000]
        claim.version += 1
        _audit(session, claim, "claim.payment_failed", payment_id=payment_id)
        session.flush()


def _locked(session: Session, claim_id: str) -> Claim:
    claim = session.scalars(select(Claim).where(Claim.id == claim_id).with_for_update()).first()
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def _audit(session: Session, claim: Claim, action: str, **details: Any) -> None:
    record_audit(
        session,
        actor=None,
        action=action,
        record_type="claim",
        record_id=claim.id,
        subject_person_id=claim.person_id,
        details={"status": claim.status, "amount_pence": claim.amount_pence, **details},
    )


def register_with_payments() -> None:
    """Hand payments this implementation, once payments is part of the app."""
    try:
        from budgets.payments.claims import use_claim_book
    except ImportError:  # payments not merged yet
        return
    use_claim_book(BookingsClaimBook())
