"""Schemas for bookings."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.money import MoneySchema
from app.sync import SyncArgsSchema
from budgets.bookings.models import BookingStatus
from budgets.providers.offers.schemas import CancellationTermsSchema
from budgets.providers.schemas import StrictSchema


class BookingSchema(StrictSchema):
    """A booking: what was agreed (price captured at booking), its state and its money."""

    id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    organisation_id = ma.fields.String(dump_only=True)
    offer_id = ma.fields.String(dump_only=True)
    plan_line_id = ma.fields.String(dump_only=True)
    budget_id = ma.fields.String(dump_only=True)
    category = ma.fields.String(dump_only=True)
    unit = ma.fields.String(dump_only=True)
    unit_price = ma.fields.Nested(MoneySchema, dump_only=True)
    units = ma.fields.Integer(dump_only=True)
    total = ma.fields.Nested(MoneySchema, dump_only=True)
    start_date = ma.fields.Date(dump_only=True)
    end_date = ma.fields.Date(dump_only=True)
    schedule = ma.fields.String(dump_only=True)
    cancellation_terms = ma.fields.Nested(CancellationTermsSchema, dump_only=True)
    status = ma.fields.String(
        dump_only=True,
        metadata={"description": "requested, accepted, declined, cancelled or completed"},
    )
    decline_reason = ma.fields.String(dump_only=True, allow_none=True)
    cancelled_by_side = ma.fields.String(dump_only=True, allow_none=True)
    cancellation_reason = ma.fields.String(dump_only=True, allow_none=True)
    cancellation_charge = ma.fields.Nested(MoneySchema, dump_only=True)
    released = ma.fields.Nested(
        MoneySchema, dump_only=True, metadata={"description": "Given back to the budget"}
    )
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class BookingCreateSchema(StrictSchema):
    """Book an offer against a line of an approved plan."""

    offer_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    plan_line_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    units = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=10_000),
        metadata={"description": "How many of the offer's units (hours, sessions...)"},
    )
    start_date = ma.fields.Date(required=True)
    end_date = ma.fields.Date(required=True)
    schedule = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=500),
        metadata={"description": "When, in words, e.g. Tuesdays 10:00-12:00"},
    )

    @ma.validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        if (
            data.get("start_date")
            and data.get("end_date")
            and data["end_date"] < data["start_date"]
        ):
            raise ma.ValidationError("Must be on or after the start date.", "end_date")


class ReasonSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=1000))


class BookingQueryArgsSchema(SyncArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf([str(s) for s in BookingStatus]))
    person_id = ma.fields.String(validate=ma.validate.Length(max=36))
    organisation_id = ma.fields.String(validate=ma.validate.Length(max=36))
    plan_line_id = ma.fields.String(
        validate=ma.validate.Length(max=36),
        metadata={"description": "Only bookings against this plan line"},
    )
