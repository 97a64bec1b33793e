"""Wire formats for budgets, their changes and balances; unknown fields are rejected."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.fast_dump import FastDumpSchema
from app.sync import SyncArgsSchema
from budgets.funding.changes import CHANGE_KINDS, RECOVERY_GROUNDS
from budgets.funding.models import BUDGET_STATUSES, HOLDING_OPTIONS, RELEASE_SCHEDULES, STREAM_KINDS
from budgets.money_fields import Pence
from budgets.plans.models import LINE_CATEGORIES


class _Strict(FastDumpSchema):
    class Meta:
        unknown = ma.RAISE


class FundingStreamCreateSchema(_Strict):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STREAM_KINDS)))
    amount = Pence(required=True, data_key="amount", attribute="amount_pence")
    excluded_categories = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(LINE_CATEGORIES)),
        load_default=list,
        metadata={"description": "Plan line categories this stream may not pay for."},
    )


class FundingStreamSchema(_Strict):
    id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    regime = ma.fields.String(dump_only=True, metadata={"description": "nhs or council"})
    excluded_categories = ma.fields.List(ma.fields.String(), dump_only=True)


class BudgetCreateSchema(_Strict):
    person_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=36))
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)
    streams = ma.fields.List(
        ma.fields.Nested(FundingStreamCreateSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=4),
    )
    holding_options = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(HOLDING_OPTIONS)),
        required=True,
        validate=ma.validate.Length(min=1, max=3),
        metadata={"description": "How the money is held; options may be combined."},
    )
    release_schedule = ma.fields.String(
        load_default="all_at_once", validate=ma.validate.OneOf(RELEASE_SCHEDULES)
    )
    broker_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=36))


class BudgetUpdateSchema(_Strict):
    broker_id = ma.fields.String(validate=ma.validate.Length(min=1, max=36))
    holding_options = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(HOLDING_OPTIONS)),
        validate=ma.validate.Length(min=1, max=3),
    )
    release_schedule = ma.fields.String(validate=ma.validate.OneOf(RELEASE_SCHEDULES))


class BudgetSchema(_Strict):
    id = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True)
    commissioner_id = ma.fields.String(dump_only=True)
    broker_id = ma.fields.String(dump_only=True, allow_none=True)
    status = ma.fields.String(dump_only=True, metadata={"enum": list(BUDGET_STATUSES)})
    status_reason = ma.fields.String(dump_only=True, allow_none=True)
    period_start = ma.fields.Date(dump_only=True)
    period_end = ma.fields.Date(dump_only=True)
    ended_on = ma.fields.Date(dump_only=True, allow_none=True)
    holding_options = ma.fields.List(ma.fields.String(), dump_only=True)
    release_schedule = ma.fields.String(dump_only=True)
    currency = ma.fields.String(dump_only=True)
    streams = ma.fields.List(ma.fields.Nested(FundingStreamSchema), dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class BudgetListArgsSchema(SyncArgsSchema):
    person_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=36))


class BalancesArgsSchema(_Strict):
    plan_id = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=36),
        metadata={"description": "Per-line figures for this plan version (default: approved)."},
    )


class BudgetChangeCreateSchema(_Strict):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(CHANGE_KINDS))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=1000))
    reason_code = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=32),
        metadata={"description": f"For a recovery, one of: {', '.join(RECOVERY_GROUNDS)}"},
    )
    funding_stream_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=36))
    amount = Pence(load_default=None, attribute="amount_pence", data_key="amount")
    notice_given_on = ma.fields.Date(load_default=None)
    effective_on = ma.fields.Date(load_default=None)


class BudgetChangeSchema(_Strict):
    id = ma.fields.String(dump_only=True)
    budget_id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    reason = ma.fields.String(dump_only=True)
    reason_code = ma.fields.String(dump_only=True, allow_none=True)
    funding_stream_id = ma.fields.String(dump_only=True, allow_none=True)
    amount = Pence(dump_only=True, attribute="amount_pence", allow_none=True)
    notice_given_on = ma.fields.Date(dump_only=True, allow_none=True)
    effective_on = ma.fields.Date(dump_only=True)
    status = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    applied_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class FiguresSchema(ma.Schema):
    allocated = Pence(dump_only=True)
    released = Pence(dump_only=True)
    committed = Pence(dump_only=True)
    spent = Pence(dump_only=True)
    available = Pence(dump_only=True, metadata={"description": "Released, not committed or spent"})


class StreamFiguresSchema(FiguresSchema):
    funding_stream_id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)


class LineFiguresSchema(ma.Schema):
    plan_line_id = ma.fields.String(dump_only=True)
    planned = Pence(dump_only=True)
    committed = Pence(dump_only=True)
    spent = Pence(dump_only=True)
    available = Pence(dump_only=True)


class BalancesSchema(FastDumpSchema):
    budget_id = ma.fields.String(dump_only=True)
    overall = ma.fields.Nested(FiguresSchema, dump_only=True)
    streams = ma.fields.List(ma.fields.Nested(StreamFiguresSchema), dump_only=True)
    lines = ma.fields.List(ma.fields.Nested(LineFiguresSchema), dump_only=True)


def balances_view(budget: Any, figures: Any) -> dict[str, Any]:
    """Shape ledger balances for `BalancesSchema`."""
    kinds = {stream.id: stream.kind for stream in budget.streams}
    return {
        "budget_id": budget.id,
        "overall": figures.overall,
        "streams": [
            {"funding_stream_id": stream_id, "kind": kinds.get(stream_id), **vars(balance)}
            for stream_id, balance in figures.streams.items()
        ],
        "lines": list(figures.lines.values()),
    }
