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
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from app.direct_sql import DirectStatement
from app.domain_errors import InvalidCursor, ValidationFailed
from app.pagination import Page, PageRequest
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


def _area_code(session: Session, actor: Actor, search: OfferSearch) -> str | None:
    """The postcode district whose offers reach the person, if the search names one."""
    if search.area:
        return parse_area(search.area)[1]
    if search.person_id:
        person = require_person_access(session, actor, search.person_id)
        if not person.postcode_district:
            raise ValidationFailed(
                {"person_id": ["We have no postcode for this person; give an area instead."]}
            )
        return person.postcode_district
    return None


# The statement for a search is built once per shape (which filters are set, the free
# text's form, the order, first page or later) and its values bound at execution: building
# it cost more Python than PostgreSQL takes to answer it.
_CODE: BindParameter[str] = bindparam("code")


def _area_condition(mode: str | None) -> ColumnElement[bool]:
    def reached(via: list[str]) -> ColumnElement[bool]:
        return Offer.id.in_(
            select(OfferArea.offer_id).where(OfferArea.code == _CODE, OfferArea.via.in_(via))
        )

    if mode == DeliveryMode.ONLINE:
        return Offer.delivers_online.is_(True)
    if mode in (DeliveryMode.IN_PERSON, DeliveryMode.AT_PREMISES):
        return reached([mode])
    return or_(
        Offer.delivers_online.is_(True),
        reached([str(DeliveryMode.IN_PERSON), str(DeliveryMode.AT_PREMISES)]),
    )


def _text_match(
    dialect: str, words: tuple[str, ...] | None
) -> tuple[ColumnElement[bool], ColumnElement[int]]:
    """The condition an offer matches the words, and an integer relevance score.

    On PostgreSQL the text is one bound value (`q`). The LIKE fallback (SQLite) needs each
    word in the statement, so `words` are part of its shape there."""
    if dialect == "postgresql":
        query = func.websearch_to_tsquery(literal_column(f"'{SEARCH_LANGUAGE}'"), bindparam("q"))
        vector = Offer.search_document
        rank: ColumnElement[int] = cast(
            func.round(func.ts_rank(vector, query) * 1_000_000), Integer
        )
        return vector.op("@@")(query), rank
    assert words is not None
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


@dataclass(frozen=True)
class _Shape:
    """What decides a search statement's SQL (its values are bound at execution)."""

    dialect: str
    category: bool
    max_price: bool
    accepting_new_people: bool | None
    areas: bool
    delivery_mode: str | None
    text: bool
    words: tuple[str, ...] | None  # the LIKE fallback's words; None on PostgreSQL
    sort: str
    after_cursor: bool


@dataclass(frozen=True)
class _Statement:
    direct: DirectStatement  # run on the cursor (app/direct_sql.py)
    keys: tuple[str, ...]  # the row's values that make the next cursor


@lru_cache(maxsize=512)
def _statement(shape: _Shape) -> _Statement:
    stmt = offer_rows().where(
        Offer.status == OfferStatus.PUBLISHED,
        ProviderOrganisation.status == OrganisationStatus.VERIFIED,
    )
    if shape.category:
        stmt = stmt.where(Offer.category == bindparam("category"))
    if shape.max_price:
        stmt = stmt.where(Offer.price_pence <= bindparam("max_price"))
    if shape.accepting_new_people is not None:
        stmt = stmt.where(Offer.accepting_new_people.is_(shape.accepting_new_people))
    if shape.areas:
        stmt = stmt.where(_area_condition(shape.delivery_mode))
    elif shape.delivery_mode:
        column = {
            DeliveryMode.IN_PERSON: Offer.delivers_in_person,
            DeliveryMode.ONLINE: Offer.delivers_online,
            DeliveryMode.AT_PREMISES: Offer.delivers_at_premises,
        }[DeliveryMode(shape.delivery_mode)]
        stmt = stmt.where(column.is_(True))
    score: ColumnElement[int] | None = None
    if shape.text:
        condition, score = _text_match(shape.dialect, shape.words)
        stmt = stmt.where(condition)
    after_id = bindparam("after_id", type_=Offer.id.type)
    keys: tuple[str, ...]
    if shape.sort == "price":
        if shape.after_cursor:
            after_price = bindparam("after_price", type_=Offer.price_pence.type)
            stmt = stmt.where(tuple_(Offer.price_pence, Offer.id) > tuple_(after_price, after_id))
        ordered, keys = stmt.order_by(Offer.price_pence, Offer.id), ("price_pence", "id")
    elif score is None:  # without words every offer is equally relevant: newest first
        if shape.after_cursor:
            stmt = stmt.where(Offer.id < after_id)
        ordered, keys = stmt.order_by(Offer.id.desc()), ("id",)
    else:
        labelled = score.label("score")
        stmt = stmt.add_columns(labelled)
        if shape.after_cursor:
            after_score = bindparam("after_score", type_=Integer())
            stmt = stmt.where(
                or_(score < after_score, and_(score == after_score, Offer.id > after_id))
            )
        ordered, keys = stmt.order_by(labelled.desc(), Offer.id), ("score", "id")
    return _Statement(DirectStatement(ordered.limit(bindparam("limit"))), keys)


def _cursor_values(page: PageRequest, scope: str, keys: tuple[str, ...]) -> dict[str, Any]:
    values = page.codec.decode(scope, page.cursor or "")
    # (price or score, id) or (id,): a number first where the order has one, an id last.
    if (
        len(values) != len(keys)
        or not isinstance(values[-1], str)
        or (keys[0] in ("price_pence", "score") and not isinstance(values[0], int))
    ):
        raise InvalidCursor("The cursor belongs to a different list or ordering.")
    return {f"after_{key.removesuffix('_pence')}": v for key, v in zip(keys, values, strict=True)}


def search_offers(
    session: Session, *, actor: Actor, search: OfferSearch, page: PageRequest
) -> Page[dict[str, Any]]:
    """Published offers of verified providers that match the search, one page at a time."""
    dialect = session.get_bind().dialect.name
    code = _area_code(session, actor, search)
    words = None
    if search.q and dialect != "postgresql":
        words = tuple(search.q.lower().split()[:MAX_WORDS])
    shape = _Shape(
        dialect=dialect,
        category=bool(search.category),
        max_price=search.max_price is not None,
        accepting_new_people=search.accepting_new_people,
        areas=code is not None,
        delivery_mode=search.delivery_mode,
        text=bool(search.q),
        words=words,
        sort="price" if search.sort == "price" else "relevance",
        after_cursor=bool(page.cursor),
    )
    statement = _statement(shape)
    scope = search.scope()
    params: dict[str, Any] = {"limit": page.limit + 1}
    if page.cursor:
        params.update(_cursor_values(page, scope, statement.keys))
    if search.category:
        params["category"] = search.category
    if search.max_price is not None:
        params["max_price"] = search.max_price
    if code is not None:
        params["code"] = code
    if search.q and dialect == "postgresql":
        params["q"] = search.q
    session.flush()  # as the ORM's autoflush would; plain rows need none of its loading
    rows = statement.direct.rows(session, params)
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = page.codec.encode(scope, [getattr(rows[-1], k) for k in statement.keys])
    return Page(items=offer_views(rows), next_cursor=next_cursor)
