"""Schemas for invitations and password reset requests."""

from __future__ import annotations

import marshmallow as ma

from auth.onboarding.service import INVITABLE_ROLES, RELATIONSHIPS


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
    """An invitation (its link is never shown again after it was made)."""

    id = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)
    person_id = ma.fields.String(dump_only=True, allow_none=True)
    status = ma.fields.String(
        dump_only=True, metadata={"description": "pending, accepted or expired (or withdrawn)"}
    )
    expires_at = ma.fields.DateTime(dump_only=True)
    accepted_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class NewInvitationSchema(InvitationSchema):
    """The invitation just made, with its single-use link (shown only this once)."""

    invitation_url = ma.fields.String(dump_only=True)
    emailed = ma.fields.Boolean(
        dump_only=True, metadata={"description": "Whether the link was sent by email."}
    )


class PasswordResetRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class AcceptedSchema(ma.Schema):
    message = ma.fields.String(dump_only=True)
