"""Schemas for provider organisations: registration, self sign-up, updates, decisions,
members."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

from app.fast_dump import FastDumpSchema
from app.pagination import PageArgsSchema
from budgets.providers.areas import parse_area
from budgets.providers.models import OrganisationKind, OrganisationStatus

CQC_NUMBER = re.compile(r"^1-[0-9]{9,11}$")


class StrictSchema(FastDumpSchema):
    """Rejects unknown fields (every request schema of this package)."""

    class Meta:
        unknown = ma.RAISE


def _validate_area(value: str) -> None:
    try:
        parse_area(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from exc


def areas_field(*, required: bool = False) -> ma.fields.List:
    """A list of postcode districts and/or council area codes."""
    return ma.fields.List(
        ma.fields.String(validate=_validate_area),
        required=required,
        validate=ma.validate.Length(min=1, max=200),
        metadata={
            "description": "Postcode districts (e.g. LS6) and/or council area codes "
            "(e.g. E08000035)",
            "example": ["LS6", "LS7", "E08000035"],
        },
    )


class OrganisationSchema(StrictSchema):
    """A provider organisation as its staff, admins and (when verified) everyone see it."""

    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    status = ma.fields.String(
        dump_only=True, metadata={"description": "unverified, verified, rejected or suspended"}
    )
    status_reason = ma.fields.String(dump_only=True, allow_none=True)
    delivers_regulated_care = ma.fields.Boolean(dump_only=True)
    cqc_registration_number = ma.fields.String(dump_only=True, allow_none=True)
    areas_served = ma.fields.List(ma.fields.String(), dump_only=True)
    contact_email = ma.fields.String(dump_only=True, allow_none=True)
    contact_phone = ma.fields.String(dump_only=True, allow_none=True)
    website = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class _OrganisationFields(StrictSchema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.String(validate=ma.validate.OneOf([str(k) for k in OrganisationKind]))
    delivers_regulated_care = ma.fields.Boolean()
    cqc_registration_number = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(CQC_NUMBER, error="A CQC provider ID looks like 1-123456789."),
    )
    areas_served = areas_field()
    contact_email = ma.fields.Email(validate=ma.validate.Length(max=254))
    contact_phone = ma.fields.String(
        allow_none=True, validate=ma.validate.Regexp(r"^\+?[0-9 ()-]{6,20}$")
    )
    website = ma.fields.URL(
        allow_none=True, schemes={"https", "http"}, validate=ma.validate.Length(max=300)
    )

    @ma.validates_schema
    def _regulated_care_needs_cqc(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("delivers_regulated_care") and not data.get("cqc_registration_number"):
            raise ma.ValidationError(
                "A provider of regulated care must give its CQC registration number.",
                "cqc_registration_number",
            )


class OrganisationCreateSchema(_OrganisationFields):
    """What a provider gives to register."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([str(k) for k in OrganisationKind]),
        metadata={"description": "individual (a self-employed PA), company, charity, nhs_trust"},
    )
    areas_served = areas_field(required=True)
    contact_email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class OrganisationUpdateSchema(_OrganisationFields):
    """A partial change to an organisation's details (send If-Match)."""


class OwnerAccountSchema(StrictSchema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=12, max=200)
    )


class SignUpSchema(StrictSchema):
    """Self sign-up: the organisation and the account of its first owner."""

    organisation = ma.fields.Nested(OrganisationCreateSchema, required=True)
    owner = ma.fields.Nested(OwnerAccountSchema, required=True)


class SignUpResultSchema(StrictSchema):
    organisation = ma.fields.Nested(OrganisationSchema, dump_only=True)
    owner_user_id = ma.fields.String(dump_only=True)


class DecisionReasonSchema(StrictSchema):
    """Why an organisation is rejected or suspended; its staff will read this."""

    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=1000))


class VerifySchema(StrictSchema):
    note = ma.fields.String(validate=ma.validate.Length(max=1000))


class OrganisationQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf([str(s) for s in OrganisationStatus]))
    mine = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only organisations you work for"}
    )


class MemberSchema(StrictSchema):
    user_id = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    membership_role = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class MemberCreateSchema(StrictSchema):
    """Add an existing account to the organisation as staff or owner."""

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    membership_role = ma.fields.String(
        load_default="staff", validate=ma.validate.OneOf(["owner", "staff"])
    )
