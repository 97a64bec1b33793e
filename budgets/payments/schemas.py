"""Schemas for payments: Stripe onboarding and readiness, webhooks."""

from __future__ import annotations

import marshmallow as ma


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
