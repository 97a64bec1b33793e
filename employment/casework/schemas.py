"""Schemas for the vocational profile, disclosure discussions and benefits planning."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.money import MoneySchema
from employment.provision.schemas import StrictSchema
from employment.rules import BENEFITS_TRIGGERS, DISCLOSURE_DECISIONS

SHORT = ma.validate.Length(min=1, max=200)


class StoredDate(ma.fields.Date):
    """A date kept inside a JSON column as its ISO string (validated on the way in)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, **kwargs).isoformat()

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return (
            value
            if isinstance(value, str) or value is None
            else super()._serialize(value, attr, obj, **kwargs)
        )


def _texts(max_items: int = 30) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=SHORT),
        load_default=list,
        validate=ma.validate.Length(max=max_items),
    )


class JobPreferencesSchema(StrictSchema):
    types_of_work = _texts()
    hours_per_week_min = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(1, 60)
    )
    hours_per_week_max = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(1, 60)
    )
    places = _texts()
    travel = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "How far and how they can travel."},
    )

    @ma.validates_schema
    def hours_in_order(self, data: dict, **_: object) -> None:
        low, high = data.get("hours_per_week_min"), data.get("hours_per_week_max")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("Must not exceed the maximum.", "hours_per_week_min")


class WorkHistoryItemSchema(StrictSchema):
    employer = ma.fields.String(required=True, validate=SHORT)
    role = ma.fields.String(required=True, validate=SHORT)
    started_on = StoredDate(load_default=None, allow_none=True)
    ended_on = StoredDate(load_default=None, allow_none=True)


class EducationItemSchema(StrictSchema):
    what = ma.fields.String(required=True, validate=SHORT)
    where = ma.fields.String(load_default=None, allow_none=True, validate=SHORT)
    year = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(1900, 2100)
    )


class VocationalProfileSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    job_preferences = ma.fields.Nested(JobPreferencesSchema, required=True)
    strengths = _texts()
    work_history = ma.fields.List(
        ma.fields.Nested(WorkHistoryItemSchema),
        load_default=list,
        validate=ma.validate.Length(max=50),
    )
    education = ma.fields.List(
        ma.fields.Nested(EducationItemSchema),
        load_default=list,
        validate=ma.validate.Length(max=50),
    )
    updated_at = ma.fields.DateTime(dump_only=True)


class DisclosureDiscussionSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    discussed_on = ma.fields.Date(required=True)
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(DISCLOSURE_DECISIONS))
    approach = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "How and when they want to tell an employer, if at all."},
    )


class BenefitsSessionSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    referral_id = ma.fields.String(dump_only=True)
    held_on = ma.fields.Date(required=True)
    trigger = ma.fields.String(required=True, validate=ma.validate.OneOf(BENEFITS_TRIGGERS))
    planned_monthly_earnings = ma.fields.Nested(MoneySchema, load_default=None, allow_none=True)
    has_work_allowance = ma.fields.Boolean(
        load_default=None,
        allow_none=True,
        metadata={"description": "UC work allowance applies (e.g. limited capability for work)."},
    )
    housing_costs_in_uc = ma.fields.Boolean(load_default=None, allow_none=True)
    work_allowance = ma.fields.Nested(MoneySchema, dump_only=True, allow_none=True)
    taper_basis_points = ma.fields.Integer(dump_only=True, allow_none=True)
    estimated_uc_reduction = ma.fields.Nested(
        MoneySchema,
        dump_only=True,
        allow_none=True,
        metadata={"description": "Monthly UC reduction from the dated rates on the session date."},
    )
