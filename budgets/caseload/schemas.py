"""Wire formats for the broker's caseload lists."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.db import utcnow
from app.pagination import PageArgsSchema
from budgets.funding.schemas import FiguresSchema
from budgets.money_fields import Pence


class AwaitingPlanSchema(ma.Schema):
    plan_id = ma.fields.String(attribute="id", dump_only=True)
    budget_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    version_number = ma.fields.Integer(dump_only=True)
    status = ma.fields.String(dump_only=True)
    submitted_at = ma.fields.DateTime(dump_only=True)
    waiting_days = ma.fields.Method("_waiting_days", dump_only=True)

    def _waiting_days(self, plan: Any) -> int:
        return (utcnow() - plan.submitted_at).days if plan.submitted_at else 0


class ReviewDueSchema(ma.Schema):
    plan_id = ma.fields.String(attribute="id", dump_only=True)
    budget_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    approved_on = ma.fields.Date(dump_only=True)
    nhs_review_due_on = ma.fields.Date(dump_only=True, allow_none=True)
    council_review_due_on = ma.fields.Date(dump_only=True, allow_none=True)
    overdue = ma.fields.Method("_overdue", dump_only=True)

    def _overdue(self, plan: Any) -> bool:
        today = utcnow().date()
        due = [d for d in (plan.nhs_review_due_on, plan.council_review_due_on) if d]
        return any(d < today for d in due)


class ReviewsDueArgsSchema(PageArgsSchema):
    within_days = ma.fields.Integer(
        load_default=30,
        validate=ma.validate.Range(min=0, max=366),
        metadata={"description": "Include reviews due within this many days (and overdue)."},
    )


class AlertSchema(ma.Schema):
    code = ma.fields.String(dump_only=True)
    detail = ma.fields.String(dump_only=True)


class SpendingAlertSchema(ma.Schema):
    budget_id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    figures = ma.fields.Nested(FiguresSchema, dump_only=True)
    plan_total = Pence(positive=False, dump_only=True, attribute="plan_total_pence")
    expected_spend_to_date = Pence(
        positive=False, dump_only=True, attribute="expected_spend_to_date_pence"
    )
    alerts = ma.fields.List(ma.fields.Nested(AlertSchema), dump_only=True)
