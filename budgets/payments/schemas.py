"""Schemas for payments: Stripe onboarding and readiness, payments, refunds, webhooks."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.money import PositiveMoneySchema, money
from app.pagination import PageArgsSchema


class StripeAccountCreateSchema(ma.Schema):
    """Starting Stripe onboarding takes no fields; anything sent is refused."""

    class Meta:
        unknown = ma.RAISE


class StripeAccountSchema(ma.Schema):
    """How ready the organisation is to be paid through Stripe, and why not."""

    organisation_id = ma.fields.String(dump_only=True)
    status = ma.fields.String(
        dump_only=True,
        metadata={"description": "not_started, onboarding, restricted or ready"},
    )
    ready = ma.fields.Boolean(dump_only=True)
    reasons = ma.fields.List(
        ma.fields.String(),
        dump_only=True,
        metadata={"description": "Why payments cannot be made yet, in plain words"},
    )
    stripe_account_id = ma.fields.String(dump_only=True, allow_none=True)
    payouts_enabled = ma.fields.Boolean(dump_only=True)
    transfers_enabled = ma.fields.Boolean(dump_only=True)
    requirements_due = ma.fields.List(ma.fields.String(), dump_only=True)
    synced_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class OnboardingLinkSchema(ma.Schema):
    """A one-time link to Stripe's onboarding form (expires within minutes)."""

    url = ma.fields.String(dump_only=True)
    expires_at = ma.fields.Integer(
        dump_only=True, metadata={"description": "Unix time when the link stops working"}
    )


class WebhookReceiptSchema(ma.Schema):
    received = ma.fields.Boolean(dump_only=True)
    outcome = ma.fields.String(
        dump_only=True, metadata={"description": "applied, unchanged, duplicate, ignored, ..."}
    )


class PaymentSchema(ma.Schema):
    """A payment to a provider for one claim."""

    id = ma.fields.String(dump_only=True)
    claim_id = ma.fields.String(dump_only=True)
    booking_id = ma.fields.String(dump_only=True)
    organisation_id = ma.fields.String(dump_only=True)
    budget_id = ma.fields.String(dump_only=True)
    plan_line_id = ma.fields.String(dump_only=True)
    amount = ma.fields.Method("_amount", dump_only=True)
    refunded = ma.fields.Method("_refunded", dump_only=True)
    status = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "pending (Stripe not yet confirmed; retried automatically), "
            "paid or failed"
        },
    )
    stripe_transfer_id = ma.fields.String(dump_only=True, allow_none=True)
    failure_code = ma.fields.String(dump_only=True, allow_none=True)
    failure_reason = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    paid_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    failed_at = ma.fields.DateTime(dump_only=True, allow_none=True)

    def _amount(self, payment: Any) -> dict[str, Any]:
        return money(payment.amount_pence, payment.currency)

    def _refunded(self, payment: Any) -> dict[str, Any]:
        return money(payment.refunded_pence, payment.currency)


class PayClaimSchema(ma.Schema):
    """Paying a claim takes no fields: the amount is the confirmed claim's."""

    class Meta:
        unknown = ma.RAISE


class RefundCreateSchema(ma.Schema):
    """Take back all or part of a payment into the budget."""

    class Meta:
        unknown = ma.RAISE

    amount = ma.fields.Nested(PositiveMoneySchema, required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class RefundSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    payment_id = ma.fields.String(dump_only=True)
    amount = ma.fields.Method("_amount", dump_only=True)
    reason = ma.fields.String(dump_only=True)
    status = ma.fields.String(
        dump_only=True, metadata={"description": "pending, reversed or failed"}
    )
    stripe_reversal_id = ma.fields.String(dump_only=True, allow_none=True)
    failure_reason = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    reversed_at = ma.fields.DateTime(dump_only=True, allow_none=True)

    def _amount(self, refund: Any) -> dict[str, Any]:
        return money(refund.amount_pence, refund.currency)


class ProviderPaymentQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf(["pending", "paid", "failed"])
    )


class PayoutSchema(ma.Schema):
    """A payout from the provider's Stripe balance to their bank account."""

    id = ma.fields.String(dump_only=True)
    stripe_payout_id = ma.fields.String(dump_only=True)
    amount = ma.fields.Method("_amount", dump_only=True)
    status = ma.fields.String(
        dump_only=True, metadata={"description": "pending, in_transit, paid, failed or canceled"}
    )
    arrival_date = ma.fields.Integer(dump_only=True, allow_none=True)
    failure_message = ma.fields.String(dump_only=True, allow_none=True)
    updated_at = ma.fields.DateTime(dump_only=True)

    def _amount(self, payout: Any) -> dict[str, Any]:
        return money(payout.amount_pence, payout.currency)
