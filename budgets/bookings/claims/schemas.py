"""Schemas for claims."""

from __future__ import annotations

import marshmallow as ma

from app.money import MoneySchema
from app.sync import SyncArgsSchema
from budgets.bookings.models import ClaimStatus
from budgets.providers.schemas import StrictSchema


class ClaimSchema(StrictSchema):
    """A claim for a delivery (or a cancellation charge); `confirmed` ones are payable."""

    id = ma.fields.String(dump_only=True)
    booking_id = ma.fields.String(dump_only=True)
    organisation_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    plan_line_id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(
        dump_only=True, metadata={"description": "delivery or cancellation_charge"}
    )
    delivered_on = ma.fields.Date(dump_only=True)
    units = ma.fields.Integer(dump_only=True)
    amount = ma.fields.Nested(MoneySchema, dump_only=True)
    status = ma.fields.String(
        dump_only=True, metadata={"description": "submitted, confirmed or disputed"}
    )
    note = ma.fields.String(dump_only=True)
    confirm_by = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={"description": "Confirmed automatically at this time if nobody answers"},
    )
    confirmed_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    auto_confirmed = ma.fields.Boolean(dump_only=True)
    dispute_reason = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class ClaimCreateSchema(StrictSchema):
    """Record a delivery: the day and how many units; the price is the booking's."""

    delivered_on = ma.fields.Date(required=True)
    units = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10_000)
    )
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))


class ClaimQueryArgsSchema(SyncArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf([str(s) for s in ClaimStatus]))
    booking_id = ma.fields.String(validate=ma.validate.Length(max=36))
