"""Delta sync: a collection answers "what changed since I last looked", deletions included.

The app keeps its collections offline. Instead of re-downloading them it sends
`updated_since` (the `synced_at` of its previous sync) and gets the records created or
changed since then, oldest change first and cursor-paged, plus the ids deleted since then
on the first page. Deleting a record leaves a `Tombstone` (record type, id, and whose
collection it was in) so deletions can be reported; tombstones older than
SYNC_TOMBSTONE_RETENTION_DAYS are purged, and an `updated_since` older than that is a 422
telling the app to sync from scratch (omit `updated_since`).

`synced_at` is the server's clock when the first page was read, minus
SYNC_OVERLAP_SECONDS, and every page of that sync repeats it: changes committed while the
app was paging, or by a transaction that started just before, are seen next time. The app
applies items as upserts, so seeing one twice is harmless.

A collection adopts it in three steps (see tests/app/sync_api.py for a complete example):
1. its query args schema is `SyncArgsSchema` (limit, cursor, updated_since);
2. its response schema is `sync_schema(ItemSchema)`;
3. its service returns `sync_page(session, stmt, updated_at=Model.updated_at, id=Model.id,
   ...)`, and calls `record_deletion(...)` in the same transaction as each delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import marshmallow as ma
from flask import current_app
from sqlalchemy import ColumnElement, Index, Select, String, delete, select, true
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, mapped_column

from app.db import Base, IdMixin, utcnow
from app.domain_errors import InvalidCursor
from app.pagination import PageArgsSchema, PageRequest, keyset_page, page_schema

T = TypeVar("T")


class Tombstone(IdMixin, Base):
    """A record that was deleted, kept so syncing apps learn it is gone."""

    __tablename__ = "tombstones"
    __table_args__ = (Index("ix_tombstones_record_type_deleted_at", "record_type", "deleted_at"),)

    record_type: Mapped[str] = mapped_column(String(48))
    record_id: Mapped[str] = mapped_column(String(36))
    # Whose collection the record was in: a person id for person-owned records, a user id
    # for user-owned ones (devices, notifications). Used to show each caller only theirs.
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


def record_deletion(
    session: Session, *, record_type: str, record_id: str, owner_id: str | None
) -> Tombstone:
    """Leave a tombstone for a deleted record (the caller's commit stores it)."""
    tombstone = Tombstone(record_type=record_type, record_id=record_id, owner_id=owner_id)
    session.add(tombstone)
    return tombstone


def purge_tombstones(session: Session, *, older_than_days: int) -> int:
    """Delete tombstones past their retention; returns how many went."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = session.execute(delete(Tombstone).where(Tombstone.deleted_at < cutoff))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SyncPage(Generic[T]):
    """Changed items (one page), ids deleted since (first page only), and the new watermark."""

    items: list[T]
    next_cursor: str | None
    deleted: list[Tombstone]
    synced_at: datetime


def sync_page(
    session: Session,
    stmt: Select[Any],
    *,
    updated_at: InstrumentedAttribute[datetime],
    id: InstrumentedAttribute[str],
    page: PageRequest,
    scope: str,
    updated_since: datetime | None,
    record_type: str,
    deleted_visible: ColumnElement[bool] | None = None,
    overlap_seconds: int = 0,
    full_sync_keys: Sequence[InstrumentedAttribute[Any]] | None = None,
    full_sync_descending: bool = False,
) -> SyncPage[Any]:
    """One page of `stmt`'s rows changed since `updated_since`, and the deletions since then.

    `deleted_visible` is a condition on `Tombstone` columns limiting deletions to the
    caller's (e.g. `visible_people_clause(actor, Tombstone.owner_id)`).

    A list that had an order before adopting sync (e.g. newest first) keeps it for a full
    sync with `full_sync_keys` (unique together) and `full_sync_descending`; a delta sync
    is always oldest change first. Rows changed while a full sync pages carry an
    `updated_at` after `synced_at`, so the next delta sync sees them.
    """
    keys: Sequence[InstrumentedAttribute[Any]] = [updated_at, id]
    descending = False
    if updated_since is not None:
        stmt = stmt.where(updated_at >= updated_since)
    elif full_sync_keys is not None:
        keys, descending = full_sync_keys, full_sync_descending
    scope = f"sync:{scope}:{updated_since.isoformat() if updated_since else '-'}"
    synced_at, keys_page = _resume(page, scope, overlap_seconds, len(keys))
    found = keyset_page(
        session, stmt, keys=keys, page=keys_page, scope=f"{scope}:keys", descending=descending
    )
    next_cursor = None
    if found.next_cursor is not None:
        last_keys = page.codec.decode(f"{scope}:keys", found.next_cursor)
        next_cursor = page.codec.encode(scope, [*last_keys, synced_at])
    deleted: list[Tombstone] = []
    if updated_since is not None and page.cursor is None:
        deleted = list(
            session.scalars(
                select(Tombstone)
                .where(
                    Tombstone.record_type == record_type,
                    Tombstone.deleted_at >= updated_since,
                    deleted_visible if deleted_visible is not None else true(),
                )
                .order_by(Tombstone.deleted_at, Tombstone.id)
            )
        )
    return SyncPage(
        items=found.items, next_cursor=next_cursor, deleted=deleted, synced_at=synced_at
    )


def _resume(
    page: PageRequest, scope: str, overlap_seconds: int, key_count: int = 2
) -> tuple[datetime, PageRequest]:
    """The watermark of this sync and the keyset page to fetch.

    A sync's cursor carries the `synced_at` of its first page, so every page reports the
    same one: changes and deletions made while the app pages are seen next time.
    """
    if page.cursor is None:
        return utcnow() - timedelta(seconds=overlap_seconds), page
    values = page.codec.decode(scope, page.cursor)
    if len(values) != key_count + 1 or not isinstance(values[-1], datetime):
        raise InvalidCursor("The cursor belongs to a different list or ordering.")
    keys_cursor = page.codec.encode(f"{scope}:keys", values[:-1])
    return values[-1], replace(page, cursor=keys_cursor)


class SyncArgsSchema(PageArgsSchema):
    """Query arguments of a syncable list: `limit`, `cursor` and `updated_since`."""

    updated_since = ma.fields.AwareDateTime(
        load_default=None,
        format="iso",
        metadata={
            "description": "RFC 3339 time: only records changed since then, plus the ids "
            "deleted since then. Pass the `synced_at` of your previous sync; omit it for a "
            "full sync."
        },
    )

    @ma.validates("updated_since")
    def _not_too_old(self, value: datetime | None, **_: Any) -> None:
        if value is None:
            return
        now = datetime.now(UTC)
        days = current_app.config["SYNC_TOMBSTONE_RETENTION_DAYS"]
        if value < now - timedelta(days=days):
            raise ma.ValidationError(
                f"Deletions are kept for {days} days; sync from scratch (omit updated_since)."
            )
        if value > now + timedelta(minutes=5):
            raise ma.ValidationError("updated_since is in the future.")

    @ma.post_load
    def _overlap(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["sync_overlap_seconds"] = current_app.config["SYNC_OVERLAP_SECONDS"]
        return data


class DeletedRecordSchema(ma.Schema):
    """A record deleted since `updated_since`: drop it from the app's copy."""

    id = ma.fields.String(required=True, attribute="record_id")
    deleted_at = ma.fields.AwareDateTime(required=True, format="iso")


_sync_schemas: dict[str, type[ma.Schema]] = {}


def sync_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The `{items, next_cursor, deleted, synced_at}` envelope of a syncable list."""
    name = item_schema.__name__.removesuffix("Schema") + "SyncPageSchema"
    if name not in _sync_schemas:
        _sync_schemas[name] = type(
            name,
            (page_schema(item_schema),),
            {
                "deleted": ma.fields.List(
                    ma.fields.Nested(DeletedRecordSchema),
                    required=True,
                    metadata={
                        "description": "Records deleted since `updated_since` (first page "
                        "only; empty on a full sync)."
                    },
                ),
                "synced_at": ma.fields.AwareDateTime(
                    required=True,
                    format="iso",
                    metadata={
                        "description": "Send this as `updated_since` next time, once you "
                        "have every page (all pages of one sync carry the same value)."
                    },
                ),
            },
        )
    return _sync_schemas[name]
