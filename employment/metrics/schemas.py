"""Schemas for the service measures, job-outcome rules and fidelity reviews."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from app.money import PositiveMoneySchema
from employment.provision.schemas import StrictSchema


class MetricsQueryArgsSchema(StrictSchema):
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)

    @ma.validates_schema
    def in_order(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise ma.ValidationError("Must be on or after period_start.", "period_end")


class MetricsSchema(ma.Schema):
    """The measures (see the definitions in the description of this endpoint)."""

    service_id = ma.fields.String()
    period = ma.fields.Dict()
    caseload_limit_per_fte = ma.fields.Integer()
    access = ma.fields.Dict()
    caseload = ma.fields.Dict()
    rapid_job_search = ma.fields.Dict()
    employer_contacts = ma.fields.Dict()
    job_starts = ma.fields.Dict()
    hours_bands = ma.fields.Dict()
    employment_rate = ma.fields.Dict()
    sustainment = ma.fields.Dict()
    follow_along = ma.fields.Dict()
    job_outcomes = ma.fields.List(ma.fields.Dict())
    by_specialist = ma.fields.List(ma.fields.Dict())


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


class OutcomeRuleSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    service_id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    min_hours_per_week = ma.fields.Float(required=True, validate=ma.validate.Range(0.25, 80))
    weeks_required = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(1, 156)
    )
    within_weeks = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 156))
    min_hourly_pay = ma.fields.Nested(PositiveMoneySchema, load_default=None, allow_none=True)
    requires_minimum_wage = ma.fields.Boolean(load_default=True)

    @ma.pre_dump
    def money_out(self, rule: Any, **_: Any) -> dict[str, Any]:
        pence = rule.min_hourly_pay_pence
        return {
            "id": rule.id,
            "service_id": rule.service_id,
            "name": rule.name,
            "min_hours_per_week": float(rule.min_hours_per_week),
            "weeks_required": rule.weeks_required,
            "within_weeks": rule.within_weeks,
            "min_hourly_pay": None if pence is None else {"amount": pence, "currency": "GBP"},
            "requires_minimum_wage": rule.requires_minimum_wage,
        }


class FidelityPrefillArgsSchema(StrictSchema):
    as_of = ma.fields.Date(load_default=None)


class FidelityItemSchema(ma.Schema):
    item = ma.fields.Integer()
    measure = ma.fields.String()
    value = ma.fields.Float(allow_none=True)
    suggested_score = ma.fields.Integer(allow_none=True)


class FidelityPrefillSchema(ma.Schema):
    service_id = ma.fields.String()
    period = ma.fields.Dict()
    items = ma.fields.List(ma.fields.Nested(FidelityItemSchema))

    @ma.pre_dump
    def iso_dates(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _iso(data)


class FidelityReviewSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    service_id = ma.fields.String(dump_only=True)
    reviewed_on = ma.fields.Date(required=True)
    reviewer_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    scores = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf([str(i) for i in range(1, 26)])),
        values=ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 5)),
        required=True,
        metadata={"description": 'Item number ("1"-"25") to its score (1-5).'},
    )
    total = ma.fields.Integer(dump_only=True)
    band = ma.fields.String(
        dump_only=True, metadata={"enum": ["exemplary", "good", "fair", "not_ips"]}
    )
