"""Schemas for IPS services and employment specialists."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

from app.fast_dump import FastDumpSchema
from app.pagination import PageArgsSchema

POSTCODE_DISTRICT = ma.validate.Regexp(
    r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?$", error="Give a postcode district such as LS6."
)


class StrictSchema(FastDumpSchema):
    class Meta:
        unknown = ma.RAISE


class ServiceSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    provider_organisation_id = ma.fields.String(dump_only=True)
    commissioner_id = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    areas_served = ma.fields.List(ma.fields.String(), dump_only=True)
    integrated_teams = ma.fields.List(ma.fields.String(), dump_only=True)
    contact_email = ma.fields.String(dump_only=True)
    contact_phone = ma.fields.String(dump_only=True, allow_none=True)
    caseload_limit_per_fte = ma.fields.Integer(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)


def _district_list(**kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=POSTCODE_DISTRICT),
        validate=ma.validate.Length(min=1, max=200),
        **kwargs,
    )


def _teams(**kwargs: Any) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
        validate=ma.validate.Length(max=50),
        **kwargs,
    )


class ServiceCreateSchema(StrictSchema):
    provider_organisation_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
    commissioner_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    areas_served = _district_list(required=True)
    integrated_teams = _teams(load_default=list)
    contact_email = ma.fields.Email(required=True)
    contact_phone = ma.fields.String(load_default=None, validate=ma.validate.Length(max=32))
    caseload_limit_per_fte = ma.fields.Integer(
        load_default=20,
        strict=True,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "Active people per full-time specialist (IPS: 20)."},
    )


class ServiceUpdateSchema(StrictSchema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    areas_served = _district_list()
    integrated_teams = _teams()
    contact_email = ma.fields.Email()
    contact_phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=32))
    caseload_limit_per_fte = ma.fields.Integer(strict=True, validate=ma.validate.Range(1, 100))
    is_active = ma.fields.Boolean()


class ServiceQueryArgsSchema(PageArgsSchema):
    postcode_district = ma.fields.String(
        load_default=None,
        validate=POSTCODE_DISTRICT,
        metadata={"description": "Only services covering this district (e.g. LS6)."},
    )


class CaseloadSchema(StrictSchema):
    open = ma.fields.Integer(
        dump_only=True, metadata={"description": "People on the caseload (not discharged)."}
    )
    active = ma.fields.Integer(
        dump_only=True, metadata={"description": "Of those, people with contact in 4 weeks."}
    )
    limit = ma.fields.Integer(dump_only=True, metadata={"description": "Limit per FTE x FTE."})
    over_limit = ma.fields.Boolean(dump_only=True)


class SpecialistSchema(StrictSchema):
    id = ma.fields.String(dump_only=True)
    service_id = ma.fields.String(dump_only=True)
    user_id = ma.fields.String(dump_only=True)
    display_name = ma.fields.String(dump_only=True)
    fte = ma.fields.Float(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
    caseload = ma.fields.Nested(CaseloadSchema, dump_only=True)


FTE_RANGE = ma.validate.Range(min=0.01, max=1.0)
FTE_DOC = {"description": "Full-time equivalent, 0.01 to 1 (two decimal places)."}


def _fte_as_decimal(data: dict[str, Any]) -> dict[str, Any]:
    if "fte" in data:
        data["fte"] = Decimal(str(data["fte"])).quantize(Decimal("0.01"))
    return data


class SpecialistCreateSchema(StrictSchema):
    user_id = ma.fields.String(required=True, validate=ma.validate.Length(max=36))
    fte = ma.fields.Float(required=True, validate=FTE_RANGE, metadata=FTE_DOC)

    @ma.post_load
    def fte_as_decimal(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _fte_as_decimal(data)


class SpecialistUpdateSchema(StrictSchema):
    fte = ma.fields.Float(validate=FTE_RANGE, metadata=FTE_DOC)

    @ma.post_load
    def fte_as_decimal(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _fte_as_decimal(data)

    is_active = ma.fields.Boolean()
