"""Bookings and claims, with the state machines that say which step may follow which.

A booking holds money: its agreed total is committed in the ledger when it is made, and
given back (released) when it is declined, cancelled or completed for less. A claim is a
provider's record of one delivery; once confirmed it is payable, and payments turn its
committed money into spend.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin
from app.domain_errors import InvalidState
from app.money import money


class BookingStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the provider; money committed
    ACCEPTED = "accepted"
    DECLINED = "declined"  # by the provider; money released
    CANCELLED = "cancelled"  # by either side under the offer's terms
    COMPLETED = "completed"  # closed by the provider; unclaimed money released


BOOKING_TRANSITIONS: dict[str, frozenset[str]] = {
    BookingStatus.REQUESTED: frozenset(
        {BookingStatus.ACCEPTED, BookingStatus.DECLINED, BookingStatus.CANCELLED}
    ),
    BookingStatus.ACCEPTED: frozenset({BookingStatus.CANCELLED, BookingStatus.COMPLETED}),
    BookingStatus.DECLINED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.COMPLETED: frozenset(),
}
OPEN_BOOKING_STATUSES = (BookingStatus.REQUESTED, BookingStatus.ACCEPTED)


class ClaimStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the person to confirm or dispute
    CONFIRMED = "confirmed"  # payable
    DISPUTED = "disputed"  # the person says it is wrong; the provider may claim again


CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.CONFIRMED, ClaimStatus.DISPUTED}),
    ClaimStatus.CONFIRMED: frozenset(),
    ClaimStatus.DISPUTED: frozenset(),
}


class ClaimKind(StrEnum):
    DELIVERY = "delivery"
    CANCELLATION_CHARGE = "cancellation_charge"  # what a late cancellation costs, per terms


def move(current: str, target: str, transitions: dict[str, frozenset[str]], what: str) -> str:
    """The target state if the machine allows it; InvalidState (409) otherwise."""
    if target not in transitions[current]:
        raise InvalidState(f"A {current} {what} cannot become {target}.")
    return target


class Booking(IdMixin, TimestampMixin, Base):
    """A person's booking of an offer against a line of their approved plan."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_person_id_id", "person_id", "id"),
        Index("ix_bookings_organisation_id_status_id", "organisation_id", "status", "id"),
        Index("ix_bookings_offer_id_status", "offer_id", "status"),
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("provider_organisations.id"))
    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.id"))
    plan_line_id: Mapped[str] = mapped_column(ForeignKey("plan_lines.id"), index=True)
    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"), index=True)
    # What was agreed, copied from the offer at booking: later offer changes never alter it.
    category: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    unit_price_pence: Mapped[int]
    units: Mapped[int] = mapped_column(Integer)
    total_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    cancellation_notice_hours: Mapped[int] = mapped_column(Integer)
    cancellation_charge_percent: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date]
    end_date: Mapped[date]
    schedule: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.REQUESTED)
    booked_by_user_id: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(1000))
    cancelled_at: Mapped[datetime | None]
    cancelled_by_side: Mapped[str | None] = mapped_column(String(16))  # person | provider
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))
    cancellation_charge_pence: Mapped[int] = mapped_column(default=0)
    # Money given back to the budget from this booking's commitment.
    released_pence: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_BOOKING_STATUSES

    @property
    def unit_price(self) -> dict[str, Any]:
        return money(self.unit_price_pence, self.currency)

    @property
    def total(self) -> dict[str, Any]:
        return money(self.total_pence, self.currency)

    @property
    def cancellation_charge(self) -> dict[str, Any]:
        return money(self.cancellation_charge_pence, self.currency)

    @property
    def released(self) -> dict[str, Any]:
        return money(self.released_pence, self.currency)

    @property
    def cancellation_terms(self) -> dict[str, int]:
        return {
            "notice_hours": self.cancellation_notice_hours,
            "charge_percent": self.cancellation_charge_percent,
        }


class Claim(IdMixin, TimestampMixin, Base):
    """A provider's claim for one delivery (or a cancellation charge) under a booking.

    Payments pays claims whose status is `confirmed`: `amount_pence` to `organisation_id`,
    from the commitment on `plan_line_id`.
    """

    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_booking_id_id", "booking_id", "id"),
        Index("ix_claims_organisation_id_status_id", "organisation_id", "status", "id"),
        Index("ix_claims_person_id_id", "person_id", "id"),
        Index("ix_claims_status_confirm_by", "status", "confirm_by"),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("provider_organisations.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    plan_line_id: Mapped[str] = mapped_column(ForeignKey("plan_lines.id"))
    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"))
    kind: Mapped[str] = mapped_column(String(24), default=ClaimKind.DELIVERY)
    delivered_on: Mapped[date]
    units: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.SUBMITTED)
    # "<booking id>:<date>" while the claim stands, so the same delivery is claimed once;
    # cleared when disputed, so the provider can claim it again correctly.
    delivery_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(1000), default="")
    recorded_by_user_id: Mapped[str | None] = mapped_column(String(36))
    recorded_by_client_id: Mapped[str | None] = mapped_column(String(64))
    confirm_by: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    confirmed_by_user_id: Mapped[str | None] = mapped_column(String(36))
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    disputed_at: Mapped[datetime | None]
    dispute_reason: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_payable(self) -> bool:
        return self.status == ClaimStatus.CONFIRMED

    @property
    def amount(self) -> dict[str, Any]:
        return money(self.amount_pence, self.currency)
