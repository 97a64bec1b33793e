"""Payments models: Stripe connected accounts, events, payouts, payments and refunds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, utcnow

TRANSFERS_ACTIVE = "active"


class ProviderStripeAccount(IdMixin, TimestampMixin, Base):
    """A provider organisation's Stripe connected account and its readiness to be paid.

    Readiness is copied from Stripe (re-fetched whenever a webhook hints it changed), never
    set by us; a provider that is not ready is not paid.
    """

    __tablename__ = "provider_stripe_accounts"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("provider_organisations.id"), unique=True
    )
    stripe_account_id: Mapped[str] = mapped_column(String(64), unique=True)
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    transfers_capability: Mapped[str] = mapped_column(String(16), default="inactive")
    requirements_due: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled_reason: Mapped[str | None] = mapped_column(String(120))
    synced_at: Mapped[datetime | None]

    @property
    def is_ready(self) -> bool:
        """Stripe will accept transfers to this account and pay them out."""
        return self.payouts_enabled and self.transfers_capability == TRANSFERS_ACTIVE


class StripeEvent(Base):
    """A Stripe event we received, stored once by its id so a redelivery changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    account: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    stripe_created: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(32))


class ProviderPayout(IdMixin, TimestampMixin, Base):
    """A payout from a provider's Stripe balance to their bank, as Stripe reported it."""

    __tablename__ = "provider_payouts"

    stripe_payout_id: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("provider_organisations.id"), index=True
    )
    amount_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(
        String(16)
    )  # pending | in_transit | paid | failed | canceled
    arrival_date: Mapped[int | None]
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(500))


class Payment(IdMixin, TimestampMixin, Base):
    """Paying one confirmed claim: a Stripe transfer to the provider's connected account.

    Created `pending` in the same transaction that turns the claim's commitment into spend;
    the transfer is made after that commit with `idempotency_key`, so however often it is
    retried Stripe makes one transfer. It ends `paid` (transfer id kept) or `failed`
    (spend reversed to commitment); an unknown outcome stays `pending` for the worker.
    """

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_status_next_attempt_at", "status", "next_attempt_at"),
        # A claim has at most one payment that is not failed: after a definitive failure
        # (say, the provider's account was closed) the claim may be paid again.
        Index(
            "uq_payments_claim_id_not_failed",
            "claim_id",
            unique=True,
            postgresql_where=text("status <> 'failed'"),
            sqlite_where=text("status <> 'failed'"),
        ),
    )

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.id"), index=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("provider_organisations.id"), index=True
    )
    plan_line_id: Mapped[str] = mapped_column(ForeignKey("plan_lines.id"))
    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    amount_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | paid | failed
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_transfer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    refunded_pence: Mapped[int] = mapped_column(default=0)
    requested_by_user_id: Mapped[str | None] = mapped_column(String(36))

    @property
    def transfer_group(self) -> str:
        """Stripe groups every transfer paid from one budget."""
        return f"budget-{self.budget_id}"


class PaymentRefund(IdMixin, TimestampMixin, Base):
    """Money taken back from a provider by reversing (part of) a payment's transfer.

    `pending` until Stripe confirms the reversal; then `reversed`, and the amount goes back
    into the budget through the ledger. Reversals made in Stripe directly (a clawback in
    the Dashboard) arrive by webhook and are recorded here too.
    """

    __tablename__ = "payment_refunds"
    __table_args__ = (
        Index("ix_payment_refunds_status_next_attempt_at", "status", "next_attempt_at"),
    )

    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending | reversed | failed
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    stripe_reversal_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    reversed_at: Mapped[datetime | None]
    requested_by_user_id: Mapped[str | None] = mapped_column(String(36))
