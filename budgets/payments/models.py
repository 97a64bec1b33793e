"""Payments models: providers' Stripe connected accounts, received Stripe events, payouts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String
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
