"""Schemas for offers and the directory search."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from app.money import MoneySchema, PositiveMoneySchema
from app.pagination import PageArgsSchema
from budgets.providers.areas import parse_area, postcode_district
from budgets.providers.categories import SERVICE_CATEGORIES, UNITS
from budgets.providers.offers.models import DeliveryMode, OfferStatus
from budgets.providers.schemas import StrictSchema, areas_field

CATEGORY_FIELD_DOC = {"description": "One of: " + ", ".join(SERVICE_CATEGORIES)}


class CancellationTermsSchema(StrictSchema):
    notice_hours = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=0, max=24 * 60),
        metadata={"description": "Notice needed before the start to cancel free of charge"},
    )
    charge_percent = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=0, max=100),
        metadata={"description": "Share of the booking's agreed total charged for late notice"},
    )


def _validate_postcode(value: str) -> None:
    try:
        postcode_district(value)
    except ValueError as exc:
        raise ma.ValidationError(str(exc)) from exc


class OfferSchema(StrictSchema):
    """An offer as published (or, for its provider, in any state)."""

    id = ma.fields.String(dump_only=True)
    organisation_id = ma.fields.String(dump_only=True)
    organisation_name = ma.fields.String(dump_only=True)
    title = ma.fields.String(dump_only=True)
    description = ma.fields.String(dump_only=True)
    category = ma.fields.String(dump_only=True)
    unit = ma.fields.String(dump_only=True)
    price = ma.fields.Nested(MoneySchema, dump_only=True, metadata={"description": "Per unit"})
    delivery_modes = ma.fields.List(ma.fields.String(), dump_only=True)
    areas = ma.fields.List(ma.fields.String(), attribute="area_codes", dump_only=True)
    premises_postcode = ma.fields.String(dump_only=True, allow_none=True)
    languages = ma.fields.List(ma.fields.String(), dump_only=True)
    accessibility_notes = ma.fields.String(dump_only=True)
    cancellation_terms = ma.fields.Nested(CancellationTermsSchema, dump_only=True)
    accepting_new_people = ma.fields.Boolean(dump_only=True)
    capacity = ma.fields.Integer(dump_only=True, allow_none=True)
    status = ma.fields.String(
        dump_only=True, metadata={"description": "draft, published, withdrawn"}
    )
    published_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class OfferUpdateSchema(StrictSchema):
    """A partial change to an offer (send If-Match). Bookings keep the price they agreed."""

    title = ma.fields.String(validate=ma.validate.Length(min=3, max=200))
    description = ma.fields.String(validate=ma.validate.Length(min=1, max=4000))
    category = ma.fields.String(
        validate=ma.validate.OneOf(list(SERVICE_CATEGORIES)), metadata=CATEGORY_FIELD_DOC
    )
    unit = ma.fields.String(validate=ma.validate.OneOf(list(UNITS)))
    price = ma.fields.Nested(PositiveMoneySchema, metadata={"description": "Per unit"})
    delivery_modes = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf([str(m) for m in DeliveryMode])),
        validate=ma.validate.Length(min=1, max=3),
    )
    areas = areas_field()
    premises_postcode = ma.fields.String(allow_none=True, validate=_validate_postcode)
    languages = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=2, max=40)),
        validate=ma.validate.Length(max=20),
    )
    accessibility_notes = ma.fields.String(validate=ma.validate.Length(max=2000))
    cancellation_terms = ma.fields.Nested(CancellationTermsSchema)
    accepting_new_people = ma.fields.Boolean()
    capacity = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(min=1))


class OfferCreateSchema(OfferUpdateSchema):
    """A new offer, created as a draft. In-person offers default to the provider's areas."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=200))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    category = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(SERVICE_CATEGORIES)),
        metadata=CATEGORY_FIELD_DOC,
    )
    unit = ma.fields.String(required=True, validate=ma.validate.OneOf(list(UNITS)))
    price = ma.fields.Nested(PositiveMoneySchema, required=True)
    delivery_modes = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf([str(m) for m in DeliveryMode])),
        required=True,
        validate=ma.validate.Length(min=1, max=3),
    )


class OfferQueryArgsSchema(PageArgsSchema):
    """Filters on a provider's own list of offers."""

    status = ma.fields.String(validate=ma.validate.OneOf([str(s) for s in OfferStatus]))


class OfferSearchArgsSchema(PageArgsSchema):
    """Directory search over published offers of verified providers."""

    category = ma.fields.String(
        validate=ma.validate.OneOf(list(SERVICE_CATEGORIES)), metadata=CATEGORY_FIELD_DOC
    )
    area = ma.fields.String(
        metadata={
            "description": "A postcode district (LS6) or council area code: offers delivered "
            "there in person or at premises, plus online ones"
        }
    )
    person_id = ma.fields.String(
        validate=ma.validate.Length(max=36),
        metadata={"description": "Search around this person's own postcode district"},
    )
    delivery_mode = ma.fields.String(validate=ma.validate.OneOf([str(m) for m in DeliveryMode]))
    max_price = ma.fields.Integer(
        strict=False,
        validate=ma.validate.Range(min=1, max=10**12),
        metadata={"description": "Highest price per unit, in pence"},
    )
    q = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Words to look for in the title and description"},
    )
    sort = ma.fields.String(
        load_default="relevance", validate=ma.validate.OneOf(["relevance", "price"])
    )

    @ma.validates("area")
    def _area_is_known(self, value: str, **_: Any) -> None:
        try:
            parse_area(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc

    @ma.validates_schema
    def _one_place(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("area") and data.get("person_id"):
            raise ma.ValidationError("Give an area or a person, not both.", "area")
