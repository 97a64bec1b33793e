"""Schemas for provider back-office clients."""

from __future__ import annotations

import marshmallow as ma

from app.pagination import PageArgsSchema
from auth.backoffice.service import BACK_OFFICE_SCOPE_NAMES


class BackOfficeClientCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    organisation_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    scopes = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(BACK_OFFICE_SCOPE_NAMES)),
        load_default=None,
        metadata={"description": "Back-office scopes to allow (default: all of them)."},
    )


class BackOfficeClientSchema(ma.Schema):
    client_id = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    organisation_id = ma.fields.String(dump_only=True)
    scopes = ma.fields.Function(lambda client: client.allowed_scopes.split(), dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class NewBackOfficeClientSchema(BackOfficeClientSchema):
    client_secret = ma.fields.Function(
        lambda client: client.client_secret,
        dump_only=True,
        metadata={"description": "Shown only now; store it in the system."},
    )


class BackOfficeClientQueryArgsSchema(PageArgsSchema):
    organisation_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
