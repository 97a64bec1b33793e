"""Bulk loading with PostgreSQL COPY, filling each row from the models' own defaults.

Rows are dicts keyed by column name; anything left out gets the column's Python default
(ids, timestamps, flags), so the generator writes what a real row holds without
repeating the models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import psycopg
from sqlalchemy import Table


def _default_for(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)
    return default.arg


def _adapt(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def copy_rows(
    connection: psycopg.Connection[Any], table: Table, rows: Iterable[dict[str, Any]]
) -> int:
    """COPY `rows` into `table`; returns how many were written."""
    columns = [c for c in table.columns]
    names = ", ".join(f'"{c.name}"' for c in columns)
    written = 0
    statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                tuple(_adapt(row[c.name] if c.name in row else _default_for(c)) for c in columns)
            )
            written += 1
    return written


def chunked(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to `size` items from an iterator."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
