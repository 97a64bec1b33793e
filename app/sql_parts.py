"""Several reads' rows in one round trip: a UNION ALL of "parts" lined up column by column.

A screen that needs a record and its children (a plan with its outcomes and lines, a
budget's sums with its plan's lines) would otherwise pay a round trip, and the statement
overhead in the worker, per query. Each part selects its own columns in its own place and
typed NULLs in every other part's place, so one result carries all of them, and the reader
splits the rows back by part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from app.direct_sql import DirectStatement

Finish = Callable[[Select[Any]], Select[Any]]


@dataclass(frozen=True)
class PartsUnion:
    """The statement, and where each part's own columns sit in its rows."""

    direct: DirectStatement  # the UNION ALL, run on the cursor (app/direct_sql.py)
    places: tuple[slice, ...]

    def read(self, session: Session, parameters: Mapping[str, Any]) -> list[list[tuple[Any, ...]]]:
        """Run the statement and split its rows by part."""
        return self.split(self.direct.rows(session, parameters))

    def split(self, rows: Sequence[Any]) -> list[list[tuple[Any, ...]]]:
        """Each part's rows, in the statement's order, as tuples of that part's columns."""
        by_part: list[list[tuple[Any, ...]]] = [[] for _ in self.places]
        for row in rows:
            part = row[0]
            by_part[part].append(tuple(row[self.places[part]]))
        return by_part


def parts_union(*parts: tuple[Sequence[Any], Finish], order_by: Sequence[Any] = ()) -> PartsUnion:
    """UNION ALL of one select per (columns, finish) part; `finish` adds its FROM, joins and
    WHERE. Rows come ordered by part, then by `order_by` (columns of any part)."""
    every = [column for columns, _finish in parts for column in columns]
    selects = []
    for number, (columns, finish) in enumerate(parts):
        own = {id(column) for column in columns}
        selects.append(
            finish(
                select(
                    literal_column(str(number)).label("part"),
                    *(
                        column if id(column) in own else cast(null(), column.type)
                        for column in every
                    ),
                )
            )
        )
    positions = {id(column): 2 + index for index, column in enumerate(every)}  # 1 is the part
    ordering: list[Any] = [literal_column("1")]
    ordering += [literal_column(str(positions[id(column)])) for column in order_by]
    places: list[slice] = []
    start = 1
    for columns, _finish in parts:
        places.append(slice(start, start + len(columns)))
        start += len(columns)
    return PartsUnion(DirectStatement(union_all(*selects).order_by(*ordering)), tuple(places))
