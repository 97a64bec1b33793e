"""Schemas for the export and the audit trail."""

from __future__ import annotations

import marshmallow as ma

from app.pagination import PageArgsSchema


class ExportSchema(ma.Schema):
    """Everything held about a person."""

    generated_at = ma.fields.DateTime(dump_only=True)
    person_id = ma.fields.String(dump_only=True, allow_none=True)
    sections = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Dict()),
        dump_only=True,
        metadata={"description": "Records by kind (profile, budgets, ledger, bookings...)"},
    )
    files = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        dump_only=True,
        metadata={"description": "File name to contents, e.g. `ledger.csv`"},
    )


class AuditEntrySchema(ma.Schema):
    """One read or change of someone's records."""

    id = ma.fields.String(dump_only=True)
    occurred_at = ma.fields.DateTime(dump_only=True)
    action = ma.fields.String(dump_only=True)
    record_type = ma.fields.String(dump_only=True)
    record_id = ma.fields.String(dump_only=True, allow_none=True)
    subject_person_id = ma.fields.String(dump_only=True, allow_none=True)
    actor_user_id = ma.fields.String(dump_only=True, allow_none=True)
    actor_client_id = ma.fields.String(dump_only=True, allow_none=True)
    actor_name = ma.fields.String(dump_only=True, allow_none=True)
    actor_roles = ma.fields.List(ma.fields.String(), dump_only=True)
    request_id = ma.fields.String(dump_only=True, allow_none=True)


class MyAuditTrailArgsSchema(PageArgsSchema):
    person_id = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=36),
        metadata={"description": "Only this person (for a representative acting for several)"},
    )


class AuditSearchArgsSchema(PageArgsSchema):
    person_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=36))
    record_type = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    record_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
