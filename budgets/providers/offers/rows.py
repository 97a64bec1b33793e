"""Offers for the directory as plain rows: the search and the offer list answer pages of
20 offers many times a minute, and loading each offer, its organisation and its areas as
ORM objects cost more CPU than the queries. Writes and single offers use the ORM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func, select

from budgets.providers.models import ProviderOrganisation
from budgets.providers.offers.models import (
    DeliveryMode,
    Offer,
    OfferArea,
    cancellation_terms,
    delivery_modes,
    price,
)

# Every column but the (deferred, never shown) text-search document.
_COLUMNS = [column for column in Offer.__table__.c if column.key != "search_document"]
# The districts an offer reaches in person, space-separated, read with the offer itself.
# PostgreSQL runs the sub-select for the page's rows only (after the sort and the limit).
_IN_PERSON_AREA_CODES = (
    select(func.aggregate_strings(OfferArea.code, " "))
    .where(OfferArea.offer_id == Offer.id, OfferArea.via == DeliveryMode.IN_PERSON)
    .scalar_subquery()
    .label("in_person_area_codes")
)


def offer_rows() -> Select[Any]:
    """Offers' columns with their organisation's name and in-person areas (filter on the
    offer or its organisation)."""
    return select(
        *_COLUMNS, ProviderOrganisation.name.label("organisation_name"), _IN_PERSON_AREA_CODES
    ).join(ProviderOrganisation, ProviderOrganisation.id == Offer.organisation_id)


def offer_views(rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """The rows as `OfferSchema` dumps them."""
    return [
        {
            **row._asdict(),
            "delivery_modes": delivery_modes(row),
            "price": price(row),
            "cancellation_terms": cancellation_terms(row),
            "area_codes": sorted((row.in_person_area_codes or "").split()),
        }
        for row in rows
    ]
