"""Wire formats for ledger entries and monthly statements."""

from __future__ import annotations

import marshmallow as ma

from app.fast_dump import FastDumpSchema
from budgets.funding.schemas import FiguresSchema
from budgets.money_fields import Pence


class LedgerEntrySchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    transaction_id = ma.fields.String(dump_only=True)
    funding_stream_id = ma.fields.String(dump_only=True)
    plan_line_id = ma.fields.String(dump_only=True, allow_none=True)
    account = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    amount = Pence(positive=False, dump_only=True, attribute="amount_pence")
    cause_type = ma.fields.String(dump_only=True)
    cause_id = ma.fields.String(dump_only=True, allow_none=True)
    actor_user_id = ma.fields.String(dump_only=True, allow_none=True)
    on_behalf_of_person_id = ma.fields.String(dump_only=True)
    note = ma.fields.String(dump_only=True, allow_none=True)
    occurred_at = ma.fields.DateTime(dump_only=True)


class StatementLineSchema(ma.Schema):
    transaction_id = ma.fields.String(dump_only=True)
    occurred_at = ma.fields.DateTime(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    amount = Pence(dump_only=True, attribute="amount_pence")
    funding_stream_id = ma.fields.String(dump_only=True)
    plan_line_id = ma.fields.String(dump_only=True, allow_none=True)
    cause_type = ma.fields.String(dump_only=True)
    cause_id = ma.fields.String(dump_only=True, allow_none=True)
    note = ma.fields.String(dump_only=True, allow_none=True)
    available_after = Pence(positive=False, dump_only=True, attribute="available_after_pence")


class StatementSchema(FastDumpSchema):
    budget_id = ma.fields.String(dump_only=True)
    month = ma.fields.String(dump_only=True, metadata={"example": "2026-05"})
    currency = ma.fields.String(dump_only=True)
    opening = ma.fields.Nested(FiguresSchema, dump_only=True)
    closing = ma.fields.Nested(FiguresSchema, dump_only=True)
    lines = ma.fields.List(ma.fields.Nested(StatementLineSchema), dump_only=True)


class StatementArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))
