"""Cursor (keyset) pagination shared by every list endpoint.

A cursor is the sort key of the last item on a page, signed with the app secret and
bound to the list it came from, so a client cannot forge one or carry it to another list.
A garbage or foreign cursor is a 400 `invalid-cursor`, never a 500. Deep pages cost the
same as the first: each page is one indexed range scan, never an OFFSET.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

import marshmallow as ma
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, bindparam, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.domain_errors import InvalidCursor
from app.fast_dump import FastDumpSchema

T = TypeVar("T")


class CursorCodec:
    """Signs and reads cursors; bound to a list by its `scope` string."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="pagination-cursor")

    def encode(self, scope: str, values: Sequence[Any]) -> str:
        packed = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
        return self._serializer.dumps({"s": scope, "v": packed})

    def decode(self, scope: str, cursor: str) -> list[Any]:
        try:
            payload = self._serializer.loads(cursor)
        except (BadSignature, ValueError, TypeError, UnicodeError) as exc:
            raise InvalidCursor("The cursor is not valid for this list.") from exc
        if not isinstance(payload, dict) or payload.get("s") != scope:
            raise InvalidCursor("The cursor belongs to a different list or ordering.")
        values = payload.get("v")
        if not isinstance(values, list):
            raise InvalidCursor("The cursor is not valid for this list.")
        try:
            return [datetime.fromisoformat(v["dt"]) if isinstance(v, dict) else v for v in values]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidCursor("The cursor is not valid for this list.") from exc


@lru_cache(maxsize=8)
def codec_for(secret: str) -> CursorCodec:
    """The codec for this secret, made once: its signer's set-up costs more than a page's
    cursor does."""
    return CursorCodec(secret)


@dataclass(frozen=True)
class PageRequest:
    """What the client asked for: how many items, and after which cursor."""

    limit: int
    cursor: str | None
    codec: CursorCodec


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def keyset_page(
    session: Session,
    stmt: Select[Any],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    page: PageRequest,
    scope: str,
    descending: bool = False,
) -> Page[Any]:
    """Run `stmt` ordered by `keys` (unique together) and return one page after the cursor:
    the first entity of each result."""
    if page.cursor:
        values = page.codec.decode(scope, page.cursor)
        if len(values) != len(keys):
            raise InvalidCursor("The cursor belongs to a different list or ordering.")
        row_key = tuple_(*keys)
        # Bind each value with its column's type, so e.g. UTCDateTime keys compare correctly.
        bound = tuple_(
            *(bindparam(None, v, type_=k.type) for k, v in zip(keys, values, strict=True))
        )
        stmt = stmt.where(row_key < bound if descending else row_key > bound)
    order = [k.desc() for k in keys] if descending else list(keys)
    ordered = stmt.order_by(*order).limit(page.limit + 1)
    rows = list(session.scalars(ordered).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        next_cursor = page.codec.encode(scope, [getattr(last, k.key) for k in keys])
    return Page(items=rows, next_cursor=next_cursor)


class PageArgsSchema(ma.Schema):
    """Query arguments every list accepts: `limit` and `cursor`."""

    class Meta:
        unknown = ma.RAISE

    limit = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "Items per page (1-100, default 20)."},
    )
    cursor = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=2048),
        metadata={"description": "The `next_cursor` of the previous page."},
    )

    @ma.post_load
    def to_page_request(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        config = current_app.config
        limit = data.pop("limit", None) or config["PAGINATION_DEFAULT_LIMIT"]
        data["page"] = PageRequest(
            limit=min(limit, config["PAGINATION_MAX_LIMIT"]),
            cursor=data.pop("cursor", None),
            codec=codec_for(config["SECRET_KEY"]),
        )
        return data


_page_schemas: dict[str, type[ma.Schema]] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The `{items: [...], next_cursor}` envelope schema for a list of `item_schema`."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (FastDumpSchema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_cursor": ma.fields.String(
                    allow_none=True,
                    required=True,
                    metadata={
                        "description": "Pass as `cursor` for the next page; null at the end."
                    },
                ),
            },
        )
    return _page_schemas[name]
