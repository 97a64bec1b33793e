"""Offers for the directory as plain rows: the search and the offer list answer pages of
20 offers many times a minute, and loading each offer, its organisation and its areas as
ORM objects cost more CPU than the queries. Writes and single offers use the ORM."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

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
_IN_PERSON_AREAS = (
    select(OfferArea.offer_id, OfferArea.code)
    .where(
        OfferArea.offer_id.in_(bindparam("offer_ids", expanding=True)),
        OfferArea.via == DeliveryMode.IN_PERSON,
    )
    .order_by(OfferArea.offer_id, OfferArea.code)
)


def offer_rows() -> Select[Any]:
    """Offers' columns with their organisation's name (filter on either table)."""
    return select(*_COLUMNS, ProviderOrganisation.name.label("organisation_name")).join(
        ProviderOrganisation, ProviderOrganisation.id == Offer.organisation_id
    )


def offer_views(session: Session, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    """The rows as `OfferSchema` dumps them, with their in-person areas (one query)."""
    areas: dict[str, list[str]] = defaultdict(list)
    if rows:
        for offer_id, code in session.connection().execute(
            _IN_PERSON_AREAS, {"offer_ids": [row.id for row in rows]}
        ):
            areas[offer_id].append(code)
    return [
        {
            **row._mapping,
            "delivery_modes": delivery_modes(row),
            "price": price(row),
            "cancellation_terms": cancellation_terms(row),
            "area_codes": areas[row.id],
        }
        for row in rows
    ]
