"""The bookings side of payments' ClaimBook: which claims are payable, and recording
that a claim was paid or that paying it failed."""

from __future__ import annotations

import pytest

from app.domain_errors import InvalidState, NotFound
from budgets.bookings.claims.payment_book import BookingsClaimBook
from tests.budgets.booking_builders import build_booking, build_claim
from tests.budgets.builders import build_approved_line


@pytest.fixture
def booking(db_session):  # type: ignore[no-untyped-def]
    line = build_approved_line(db_session, line_pence=2000, planned_total_pence=100_000)
    return build_booking(db_session, line=line, units=5)


def test_unpaid_confirmed_claims_oldest_first(db_session, booking) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    from app.db import utcnow

    book = BookingsClaimBook()
    first = build_claim(db_session, booking=booking, confirmed_at=utcnow() - timedelta(days=2))
    second = build_claim(
        db_session,
        booking=booking,
        delivered_on=date(2026, 4, 2),
        confirmed_at=utcnow() - timedelta(days=1),
    )
    build_claim(db_session, booking=booking, delivered_on=date(2026, 4, 3), status="submitted")
    build_claim(db_session, booking=booking, delivered_on=date(2026, 4, 4), status="disputed")
    ids = book.unpaid_confirmed_claim_ids(db_session, limit=10)
    assert ids[:2] == [first.id, second.id] and len(ids) == 2
    book.mark_paid(db_session, claim_id=first.id, payment_id="pay-1")
    book.mark_paid(db_session, claim_id=first.id, payment_id="pay-1")  # a replay changes nothing
    assert first.status == "paid" and first.payment_id == "pay-1" and first.paid_at
    assert book.unpaid_confirmed_claim_ids(db_session, limit=10) == [second.id]


def test_failed_payment_can_be_paid_later(db_session, booking) -> None:  # type: ignore[no-untyped-def]
    book = BookingsClaimBook()
    claim = build_claim(db_session, booking=booking)
    book.mark_payment_failed(db_session, claim_id=claim.id, payment_id="p1", reason="Closed")
    assert claim.status == "payment_failed" and claim.is_payable
    assert book.unpaid_confirmed_claim_ids(db_session, limit=10) == []
    book.mark_paid(db_session, claim_id=claim.id, payment_id="p2")
    assert claim.status == "paid" and not claim.is_payable
    with pytest.raises(InvalidState):
        book.mark_payment_failed(db_session, claim_id=claim.id, payment_id="p3", reason="x")


def test_unconfirmed_claims_cannot_be_marked_paid(db_session, booking) -> None:  # type: ignore[no-untyped-def]
    book = BookingsClaimBook()
    claim = build_claim(db_session, booking=booking, status="submitted")
    with pytest.raises(InvalidState):
        book.mark_paid(db_session, claim_id=claim.id, payment_id="p1")
    with pytest.raises(NotFound):
        book.mark_paid(db_session, claim_id="nope", payment_id="p1")


def test_payable_claim_snapshot(db_session, booking) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("budgets.payments.claims", reason="payments is not merged yet")
    claim = build_claim(db_session, booking=booking, units=2)
    facts = BookingsClaimBook().payable_claim(db_session, claim_id=claim.id)
    assert (facts.claim_id, facts.amount_pence, facts.plan_line_id) == (
        claim.id,
        2 * booking.unit_price_pence,
        booking.plan_line_id,
    )
    assert facts.is_payable
