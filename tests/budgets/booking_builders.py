"""Keyword builders for bookings and claims (flush, never commit), for tests of bookings,
claims, payments and data protection. The money is committed in the ledger as the API
would do it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from budgets.bookings.models import Booking, Claim
from budgets.ledger.service import commit_funds
from budgets.plans.models import PlanLine
from tests.builders import build_offer


def build_booking(
    session: Session,
    *,
    line: PlanLine,
    offer: Any = None,
    units: int = 5,
    status: str = "accepted",
    **overrides: Any,
) -> Booking:
    """A booking of `offer` (a matching published one by default) on `line`, money committed."""
    offer = offer or build_offer(
        session, category=line.category, unit=line.unit, price_pence=line.unit_cost_pence
    )
    values: dict[str, Any] = {
        "person_id": line.person_id,
        "organisation_id": offer.organisation_id,
        "offer_id": offer.id,
        "plan_line_id": line.id,
        "budget_id": line.budget_id,
        "category": offer.category,
        "unit": offer.unit,
        "unit_price_pence": offer.price_pence,
        "units": units,
        "total_pence": offer.price_pence * units,
        "cancellation_notice_hours": offer.cancellation_notice_hours or 24,
        "cancellation_charge_percent": offer.cancellation_charge_percent or 0,
        "start_date": line.start_date,
        "end_date": line.end_date,
        "status": status,
        "released_pence": 0,
        "cancellation_charge_pence": 0,
    }
    values.update(overrides)
    booking = Booking(**values)
    session.add(booking)
    session.flush()
    commit_funds(
        session,
        plan_line_id=line.id,
        amount_pence=booking.total_pence,
        cause_type="booking",
        cause_id=booking.id,
        actor=None,
    )
    return booking


def build_claim(
    session: Session,
    *,
    booking: Booking,
    units: int = 1,
    delivered_on: date | None = None,
    status: str = "confirmed",
    **overrides: Any,
) -> Claim:
    """A delivery claim on `booking` (confirmed, so payable, by default)."""
    delivered_on = delivered_on or booking.start_date
    values: dict[str, Any] = {
        "booking_id": booking.id,
        "organisation_id": booking.organisation_id,
        "person_id": booking.person_id,
        "plan_line_id": booking.plan_line_id,
        "budget_id": booking.budget_id,
        "kind": "delivery",
        "delivered_on": delivered_on,
        "units": units,
        "amount_pence": units * booking.unit_price_pence,
        "currency": booking.currency,
        "status": status,
        "delivery_key": f"{booking.id}:{delivered_on.isoformat()}",
        "auto_confirmed": False,
    }
    values.update(overrides)
    claim = Claim(**values)
    session.add(claim)
    session.flush()
    return claim
