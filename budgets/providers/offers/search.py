"""The offer directory search: published offers of verified providers, filtered by
category, area, delivery mode, price and free text, sorted by relevance or price.

Every page is one query over indexed columns plus one to load the page's areas, whatever
the page size or depth (keyset pagination, never OFFSET). Free text uses PostgreSQL full
text search (a GIN index over a weighted title-and-description document that a
trigger keeps); on SQLite, used for
development and tests, it falls back to matching each word with LIKE.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app.domain_errors import InvalidCursor, ValidationFailed
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_person_access
from auth.actor import Actor
from budgets.providers.areas import parse_area
from budgets.providers.models import OrganisationStatus, ProviderOrganisation
from budgets.providers.offers.models import (
    SEARCH_LANGUAGE,
    DeliveryMode,
    Offer,
    OfferArea,
    OfferStatus,
)
from budgets.providers.offers.rows import offer_rows, offer_views

MAX_WORDS = 8


@dataclass(frozen=True)
class OfferSearch:
    """What the caller is looking for."""

    category: str | None = None
    area: str | None = None
    person_id: str | None = None
    delivery_mode: str | None = None
    max_price: int | None = None
    q: str | None = None
    accepting_new_people: bool | None = None
    sort: str = "relevance"

    def scope(self) -> str:
        """Binds a cursor to these filters, so it cannot be replayed on another search."""
        digest = hashlib.sha256(repr(self).encode()).hexdigest()[:16]
        return f"offer-search:{digest}"


def _area_codes(session: Session, actor: Actor, search: OfferSearch) -> list[str]:
    if search.area:
        return [parse_area(search.area)[1]]
    if search.person_id:
        person = require_person_access(session, actor, search.person_id)
        if not person.postcode_district:
            raise ValidationFailed(
                {"person_id": ["We have no postcode for this person; give an area instead."]}
            )
        return [person.postcode_district]
    return []


def _area_condition(codes: list[str], mode: str | None) -> ColumnElement[bool]:
    def reached(via: list[str]) -> ColumnElement[bool]:
        return Offer.id.in_(
            select(OfferArea.offer_id).where(OfferArea.code.in_(codes), OfferArea.via.in_(via))
        )

    if mode == DeliveryMode.ONLINE:
        return Offer.delivers_online.is_(True)
    if mode in (DeliveryMode.IN_PERSON, DeliveryMode.AT_PREMISES):
        return reached([mode])
    return or_(
        Offer.delivers_online.is_(True),
        reached([str(DeliveryMode.IN_PERSON), str(DeliveryMode.AT_PREMISES)]),
    )


def _text_match(session: Session, q: str) -> tuple[ColumnElement[bool], ColumnElement[int]]:
    """The condition an offer matches the words, and an integer relevance score."""
    if session.get_bind().dialect.name == "postgresql":
        query = func.websearch_to_tsquery(literal_column(f"'{SEARCH_LANGUAGE}'"), q)
        vector = Offer.search_document
        rank: ColumnElement[int] = cast(
            func.round(func.ts_rank(vector, query) * 1_000_000), Integer
        )
        return vector.op("@@")(query), rank
    words = q.lower().split()[:MAX_WORDS]
    title, description = func.lower(Offer.title), func.lower(Offer.description)
    matches = [
        or_(title.contains(w, autoescape=True), description.contains(w, autoescape=True))
        for w in words
    ]
    score: ColumnElement[int] = literal(0)
    for w in words:
        score = (
            score
            + case((title.contains(w, autoescape=True), 2), else_=0)
            + case((description.contains(w, autoescape=True), 1), else_=0)
        )
    return and_(*matches), score


def search_offers(
    session: Session, *, actor: Actor, search: OfferSearch, page: PageRequest
) -> Page[dict[str, Any]]:
    """Published offers of verified providers that match the search, one page at a time."""
    stmt = offer_rows().where(
        Offer.status == OfferStatus.PUBLISHED,
        ProviderOrganisation.status == OrganisationStatus.VERIFIED,
    )
    if search.category:
        stmt = stmt.where(Offer.category == search.category)
    if search.max_price is not None:
        stmt = stmt.where(Offer.price_pence <= search.max_price)
    if search.accepting_new_people is not None:
        stmt = stmt.where(Offer.accepting_new_people.is_(search.accepting_new_people))
    codes = _area_codes(session, actor, search)
    if codes:
        stmt = stmt.where(_area_condition(codes, search.delivery_mode))
    elif search.delivery_mode:
        column = {
            DeliveryMode.IN_PERSON: Offer.delivers_in_person,
            DeliveryMode.ONLINE: Offer.delivers_online,
            DeliveryMode.AT_PREMISES: Offer.delivers_at_premises,
        }[DeliveryMode(search.delivery_mode)]
        stmt = stmt.where(column.is_(True))
    score: ColumnElement[int] | None = None
    if search.q:
        condition, score = _text_match(session, search.q)
        stmt = stmt.where(condition)
    if search.sort == "price":
        found = keyset_page(
            session,
            stmt,
            keys=[Offer.price_pence, Offer.id],
            page=page,
            scope=search.scope(),
            as_rows=True,
        )
    elif score is None:
        # Without words every offer is equally relevant: newest first.
        found = keyset_page(
            session,
            stmt,
            keys=[Offer.id],
            page=page,
            scope=search.scope(),
            descending=True,
            as_rows=True,
        )
    else:
        found = _page_by_score(session, stmt, score, page=page, scope=search.scope())
    return Page(items=offer_views(session, found.items), next_cursor=found.next_cursor)


def _page_by_score(
    session: Session, stmt: Any, score: ColumnElement[int], *, page: PageRequest, scope: str
) -> Page[Row[Any]]:
    """Keyset pagination over (score descending, id ascending)."""
    labelled = score.label("score")
    stmt = stmt.add_columns(labelled)
    if page.cursor:
        values = page.codec.decode(scope, page.cursor)
        if len(values) != 2 or not isinstance(values[0], int):
            raise InvalidCursor("The cursor belongs to a different list or ordering.")
        last_score, last_id = values
        stmt = stmt.where(or_(score < last_score, and_(score == last_score, Offer.id > last_id)))
    rows = session.execute(stmt.order_by(labelled.desc(), Offer.id).limit(page.limit + 1)).all()
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = page.codec.encode(scope, [int(rows[-1].score), rows[-1].id])
    return Page(items=list(rows), next_cursor=next_cursor)
