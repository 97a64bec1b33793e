"""Wire formats for care and support plans, lines, decisions and rule findings."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.fast_dump import FastDumpSchema
from budgets.money_fields import Pence
from budgets.plans.models import LINE_CATEGORIES, LINE_FREQUENCIES, LINE_UNITS, PLAN_STATUSES

_TEXT = ma.validate.Length(max=5000)


class _Strict(FastDumpSchema):
    class Meta:
        unknown = ma.RAISE


class OutcomeSchema(ma.Schema):
    position = ma.fields.Integer(dump_only=True)
    text = ma.fields.String(dump_only=True)


class PlanLineCreateSchema(_Strict):
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(LINE_CATEGORIES))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=500))
    outcome_positions = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=50)),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "Which outcomes (1-based positions) this line serves."},
    )
    unit = ma.fields.String(required=True, validate=ma.validate.OneOf(LINE_UNITS))
    unit_cost = Pence(required=True, attribute="unit_cost_pence", data_key="unit_cost")
    quantity = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=10_000),
        metadata={"description": "Units each time (e.g. 6 hours a week)."},
    )
    frequency = ma.fields.String(required=True, validate=ma.validate.OneOf(LINE_FREQUENCIES))
    start_date = ma.fields.Date(required=True)
    end_date = ma.fields.Date(required=True)
    funding_stream_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
    provider_offer_id = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=36)
    )
    pays_household_family_member = ma.fields.Boolean(load_default=False)


class PlanLineUpdateSchema(PlanLineCreateSchema):
    """Any subset of a line's fields."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class PlanLineSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    lineage_id = ma.fields.String(dump_only=True)
    category = ma.fields.String(dump_only=True)
    description = ma.fields.String(dump_only=True)
    outcome_positions = ma.fields.List(ma.fields.Integer(), dump_only=True)
    unit = ma.fields.String(dump_only=True)
    unit_cost = Pence(dump_only=True, attribute="unit_cost_pence")
    quantity = ma.fields.Integer(dump_only=True)
    frequency = ma.fields.String(dump_only=True)
    start_date = ma.fields.Date(dump_only=True)
    end_date = ma.fields.Date(dump_only=True)
    funding_stream_id = ma.fields.String(dump_only=True)
    provider_offer_id = ma.fields.String(dump_only=True, allow_none=True)
    pays_household_family_member = ma.fields.Boolean(dump_only=True)
    household_agreement_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    planned_total = Pence(dump_only=True, attribute="planned_total_pence")
    review_comment = ma.fields.String(dump_only=True, allow_none=True)


class PlanCreateSchema(_Strict):
    outcomes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=2000)),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={"description": "Health and wellbeing outcomes, in the person's own words."},
    )
    risks = ma.fields.String(load_default="", validate=_TEXT)
    review_arrangements = ma.fields.String(load_default="", validate=_TEXT)


class PlanUpdateSchema(_Strict):
    outcomes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=2000)),
        validate=ma.validate.Length(max=50),
    )
    risks = ma.fields.String(validate=_TEXT)
    review_arrangements = ma.fields.String(validate=_TEXT)


class PlanSchema(FastDumpSchema):
    id = ma.fields.String(dump_only=True)
    budget_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    version_number = ma.fields.Integer(dump_only=True)
    previous_version_id = ma.fields.String(dump_only=True, allow_none=True)
    status = ma.fields.String(dump_only=True, metadata={"enum": list(PLAN_STATUSES)})
    outcomes = ma.fields.List(ma.fields.Nested(OutcomeSchema), dump_only=True)
    lines = ma.fields.List(ma.fields.Nested(PlanLineSchema), dump_only=True)
    total = Pence(positive=False, dump_only=True, attribute="total_pence")
    risks = ma.fields.String(dump_only=True)
    review_arrangements = ma.fields.String(dump_only=True)
    broker_id = ma.fields.String(dump_only=True, allow_none=True)
    submitted_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    decided_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    approved_on = ma.fields.Date(dump_only=True, allow_none=True)
    nhs_review_due_on = ma.fields.Date(dump_only=True, allow_none=True)
    council_review_due_on = ma.fields.Date(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class FindingSchema(ma.Schema):
    code = ma.fields.String(dump_only=True)
    detail = ma.fields.String(dump_only=True)
    line_id = ma.fields.String(dump_only=True, allow_none=True)


class PurchaseCheckSchema(_Strict):
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(LINE_CATEGORIES))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=500))
    funding_stream_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
    start_date = ma.fields.Date(load_default=None)
    end_date = ma.fields.Date(load_default=None)


class PlanCheckSchema(ma.Schema):
    ok = ma.fields.Boolean(dump_only=True)
    findings = ma.fields.List(ma.fields.Nested(FindingSchema), dump_only=True)


class ApproveSchema(_Strict):
    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(max=5000))


class ReturnSchema(_Strict):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=5000))
    line_comments = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(max=36)),
        values=ma.fields.String(validate=ma.validate.Length(min=1, max=2000)),
        load_default=dict,
        metadata={"description": "Line id to what should change on that line."},
    )


class ReconsiderationSchema(_Strict):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=5000))


class ReconsiderationAnswerSchema(_Strict):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(["approve", "uphold"]))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=5000))


class DecisionSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    reason = ma.fields.String(dump_only=True, allow_none=True)
    line_comments = ma.fields.Dict(dump_only=True, allow_none=True)
    actor_user_id = ma.fields.String(dump_only=True, allow_none=True)
    occurred_at = ma.fields.DateTime(dump_only=True)
