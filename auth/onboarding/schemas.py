"""Schemas for invitations, provider sign-up and password reset requests."""

from __future__ import annotations

import marshmallow as ma

from auth.onboarding.service import INVITABLE_ROLES, PROVIDER_KINDS, RELATIONSHIPS


class InvitationCreateSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(
        required=True, validate=ma.validate.OneOf([str(r) for r in INVITABLE_ROLES])
    )
    person_id = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "For a person or representative: the person concerned."},
    )
    relationship = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(RELATIONSHIPS),
        metadata={"description": "For a representative: parent, nominee or deputy."},
    )


class InvitationSchema(ma.Schema):
    """The invitation just made, with its single-use link (shown only this once)."""

    id = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True, allow_none=True)
    expires_at = ma.fields.DateTime(dump_only=True)
    invitation_url = ma.fields.String(dump_only=True)
    emailed = ma.fields.Boolean(
        dump_only=True, metadata={"description": "Whether the link was sent by email."}
    )


class ProviderSignupSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    organisation_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    organisation_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(PROVIDER_KINDS))
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=10, max=200)
    )


class ProviderSignupResultSchema(ma.Schema):
    user_id = ma.fields.String(dump_only=True)
    organisation_id = ma.fields.String(dump_only=True)
    organisation_status = ma.fields.String(
        dump_only=True, metadata={"description": "unverified until an admin verifies it"}
    )


class PasswordResetRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class AcceptedSchema(ma.Schema):
    message = ma.fields.String(dump_only=True)
