"""Statements that run on every request, executed on the DBAPI cursor directly.

SQLAlchemy's execution of an already-compiled, cached statement still builds an execution
context, a cursor result and its metadata, and fires its dispatch hooks: measured under
callgrind, the token lookup that authenticates each request cost 555,000 instructions
through `Connection.execute` and 133,000 on a psycopg cursor, for the same SQL and the
same round trip. A request runs two to four such statements before it does its own work.

`DirectStatement` compiles a statement once per dialect with SQLAlchemy (so the SQL, the
type conversion of parameters and results, and the dialect's quirks are SQLAlchemy's),
then runs it on the session's own DBAPI connection: the same transaction, the same
first-write rule on the request engine (app/db.py), the same `before_cursor_execute`
listeners (the tests' and the benchmark's statement counts see it), and database errors
raised as SQLAlchemy's, with a dropped connection invalidated as SQLAlchemy would.

Only for statements whose parameters are all supplied by the caller: no IN lists that
expand per call, no column defaults or onupdate values computed in Python.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from app.db import HELD_ROWS, open_transaction_on_first_write


class NotDirect(Exception):
    """The statement needs SQLAlchemy's execution (defaults, expanding parameters)."""


@dataclass
class _Compiled:
    sql: str
    positional_names: tuple[str, ...] | None  # None: the driver takes named parameters
    fixed_values: dict[str, Any]  # values the statement carries itself, already converted
    bind_processors: dict[str, Callable[[Any], Any]]
    row_type: Callable[..., Any] | None
    result_types: tuple[Any, ...]
    stands_alone: bool
    # (column index, conversion) for the columns that need one. Some conversions depend on
    # the type the driver reports (PostgreSQL's numerics), so they are chosen at the first
    # execution, from the cursor's description.
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None


def _row_type(names: list[str]) -> Callable[..., Any]:
    """Rows readable by position and by name, as SQLAlchemy's are."""
    return namedtuple("DirectRow", names, rename=True)


def _compile(statement: ClauseElement, dialect: Dialect, stands_alone: bool) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    if any(bind.expanding and bind.required for bind in compiled.binds.values()):
        raise NotDirect("an IN list given at execution is rendered per call")
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise NotDirect("a column default or onupdate computed in Python")
    if any(bind.callable is not None for bind in compiled.binds.values()):
        raise NotDirect("a parameter whose value is computed at execution")
    caller_supplied = {name for name, bind in compiled.binds.items() if bind.required}
    # Values the statement carries (a LIMIT, an aggregate's separator) are rendered into
    # the SQL or converted here once; only the caller's parameters are converted per call.
    expanded = compiled.construct_expanded_state(dict.fromkeys(caller_supplied))
    processors = {**compiled._bind_processors, **expanded.processors}
    fixed_values = {
        name: processors[name](value) if name in processors else value
        for name, value in expanded.parameters.items()
        if name not in caller_supplied
    }
    entries = compiled._result_columns  # the SELECT (or RETURNING) list, with types
    row_type = _row_type([entry.keyname for entry in entries]) if entries else None
    return _Compiled(
        sql=expanded.statement,
        positional_names=tuple(expanded.positiontup) if expanded.positiontup else None,
        fixed_values=fixed_values,
        bind_processors={name: processors[name] for name in caller_supplied if name in processors},
        row_type=row_type,
        result_types=tuple(entry.type for entry in entries),
        stands_alone=stands_alone,
    )


@dataclass(frozen=True)
class RowUpdate:
    """Where held rows that change stored rows go: each row gives `key`'s value and new
    values for `columns` of `table`. Held beside inserts (`WorkSession.hold_rows`), they
    are sent with them; columns with an onupdate default keep their value."""

    table: Table
    key: str
    columns: tuple[str, ...]


# Where held rows go (a table to insert into, or a RowUpdate) and how many: one statement
# is built for each such shape, and at most this many are kept.
HeldTarget = Table | RowUpdate
_Shape = tuple[tuple[HeldTarget, int], ...]
_SHAPES_KEPT = 64


class DirectStatement:
    """A statement built once, run on the session's DBAPI connection (module docstring).

    `stands_alone` marks a one-row write that is complete by itself (a read's audit row,
    an idempotency claim): before any other write on the request engine it commits on
    its own, as `STANDS_ALONE` does for statements SQLAlchemy executes.

    `carries_held_rows` marks a write that neither reads nor writes any table the
    session's held rows go to (`WorkSession.hold_rows`): on PostgreSQL it takes them
    with it as WITH clauses, rather than after a statement of their own.
    """

    def __init__(
        self,
        statement: ClauseElement,
        *,
        stands_alone: bool = False,
        carries_held_rows: bool = False,
    ) -> None:
        self.statement = statement
        self._stands_alone = stands_alone
        self._carries_held_rows = carries_held_rows
        self._by_dialect: dict[tuple[type, str], _Compiled] = {}
        self._carrying: dict[_Shape, DirectStatement] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.paramstyle)
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = _compile(self.statement, dialect, self._stands_alone)
        return found

    def rows(self, session: Session, parameters: Mapping[str, Any]) -> list[Any]:
        """Every row the statement returns, as named tuples."""
        if HELD_ROWS in session.info:
            session.send_held_rows()  # type: ignore[attr-defined]
        connection = session.connection()
        return _run(connection, self._compiled(connection.dialect), parameters)[0]

    def first(self, session: Session, parameters: Mapping[str, Any]) -> Any:
        """The first row the statement returns, or None."""
        found = self.rows(session, parameters)
        return found[0] if found else None

    def run(self, session: Session, parameters: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it touched."""
        connection = session.connection()
        if HELD_ROWS in session.info:
            if self._carries_held_rows and connection.dialect.name == "postgresql":
                self._compiled(connection.dialect)  # refused (NotDirect) as it would be alone
                held = _tables_with_rows(session.info.pop(HELD_ROWS))
                return self._carrying_rows(_shape(held)).run(
                    session, {**_held_parameters(held), **parameters}
                )
            session.send_held_rows()  # type: ignore[attr-defined]
        return _run(connection, self._compiled(connection.dialect), parameters)[1]

    def _carrying_rows(self, shape: _Shape) -> DirectStatement:
        found = self._carrying.get(shape)
        if found is None:
            if len(self._carrying) >= _SHAPES_KEPT:  # shapes vary with row counts
                self._carrying.clear()
            carried = self.statement.add_cte(*_held_writes(shape))  # type: ignore[attr-defined]
            found = DirectStatement(carried, stands_alone=self._stands_alone)
            self._carrying[shape] = found
        return found


def _driver_parameters(compiled: _Compiled, parameters: Mapping[str, Any]) -> Any:
    values = dict(compiled.fixed_values)
    processors = compiled.bind_processors
    for name, value in parameters.items():
        process = processors.get(name)
        values[name] = process(value) if process is not None else value
    if compiled.positional_names is None:
        return values
    return tuple(values[name] for name in compiled.positional_names)


def _run(
    connection: Connection, compiled: _Compiled, parameters: Mapping[str, Any]
) -> tuple[list[Any], int]:
    driver_parameters = _driver_parameters(compiled, parameters)
    dbapi_connection: Any = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        if connection._has_events or connection.engine._has_events:
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, compiled.sql, driver_parameters, None, False)
        open_transaction_on_first_write(
            dbapi_connection, compiled.sql, stands_alone=compiled.stands_alone
        )
        cursor.execute(compiled.sql, driver_parameters)
        rows = cursor.fetchall() if compiled.row_type is not None else []
        touched = cursor.rowcount
        if connection._has_events or connection.engine._has_events:
            for listener in connection.dispatch.after_cursor_execute:
                listener(connection, cursor, compiled.sql, driver_parameters, None, False)
        if compiled.conversions is None and compiled.row_type is not None:
            compiled.conversions = _conversions(connection.dialect, compiled, cursor.description)
    except connection.dialect.loaded_dbapi.Error as error:
        # Wrapped as SQLAlchemy's own (what app/errors.py expects), and a connection the
        # server dropped is invalidated with the pool's older ones, as SQLAlchemy does.
        connection._handle_dbapi_exception(error, compiled.sql, driver_parameters, cursor, None)
        raise  # not reached: the call above raises
    finally:
        cursor.close()
    if compiled.row_type is None:
        return [], touched
    make_row, conversions = compiled.row_type, compiled.conversions
    if not conversions:
        return [make_row(*row) for row in rows], touched
    converted = []
    for row in rows:
        values = list(row)
        for index, convert in conversions:
            values[index] = convert(values[index])
        converted.append(make_row(*values))
    return converted, touched


def _conversions(
    dialect: Dialect, compiled: _Compiled, description: Any
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    found = (
        type_._cached_result_processor(dialect, column[1])
        for type_, column in zip(compiled.result_types, description, strict=True)
    )
    return tuple((index, convert) for index, convert in enumerate(found) if convert is not None)


def _bound_rows(table: Table, count: int, tag: str = "") -> list[dict[str, Any]]:
    return [
        {
            column.key: bindparam(f"{column.key}_{tag}{n}", type_=column.type)
            for column in table.columns
        }
        for n in range(count)
    ]


@functools.cache
def _insert_of(table: Table, count: int, stands_alone: bool) -> DirectStatement:
    return DirectStatement(
        insert(table).values(_bound_rows(table, count)), stands_alone=stands_alone
    )


def insert_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], *, stands_alone: bool = False
) -> None:
    """Insert rows that give every column of `table`, in one statement on the cursor (one
    statement per row count, built once), without the ORM's unit of work. `stands_alone`
    as for `DirectStatement` (one row only)."""
    if not rows:
        return
    parameters = {f"{name}_{n}": value for n, row in enumerate(rows) for name, value in row.items()}
    _insert_of(table, len(rows), stands_alone).run(session, parameters)


def _row_update(target: RowUpdate, tag: str) -> Any:
    """One stored row's UPDATE, its parameters named `<column>_<tag>`."""
    table = target.table
    values: dict[str, Any] = {
        name: bindparam(f"{name}_{tag}", type_=table.c[name].type) for name in target.columns
    }
    for column in table.columns:  # given, so that SQLAlchemy computes no onupdate value
        if column.onupdate is not None and column.key not in values:
            values[column.key] = column
    key = table.c[target.key]
    return (
        update(table).where(key == bindparam(f"{target.key}_{tag}", type_=key.type)).values(values)
    )


@functools.cache
def _update_of(target: RowUpdate) -> DirectStatement:
    return DirectStatement(_row_update(target, "0"))


def write_rows(session: Session, target: HeldTarget, rows: list[dict[str, Any]]) -> None:
    """Send rows held for `target` on their own: one INSERT, or an UPDATE a row."""
    if not isinstance(target, RowUpdate):
        insert_rows(session, target, rows)
        return
    for row in rows:
        _update_of(target).run(session, {f"{name}_0": value for name, value in row.items()})


def _tables_with_rows(rows_by_table: Mapping[HeldTarget, list[dict[str, Any]]]) -> list[Any]:
    return [(table, rows) for table, rows in rows_by_table.items() if rows]


def _shape(tables: list[tuple[Table, list[dict[str, Any]]]]) -> _Shape:
    return tuple((table, len(rows)) for table, rows in tables)


def _held_parameters(tables: list[tuple[Table, list[dict[str, Any]]]]) -> dict[str, Any]:
    return {
        f"{name}_{index}_{n}": value
        for index, (_, rows) in enumerate(tables)
        for n, row in enumerate(rows)
        for name, value in row.items()
    }


def _held_writes(shape: _Shape) -> list[Any]:
    """An INSERT a table and an UPDATE a row to update, each as a data-modifying WITH
    clause."""
    writes = []
    for index, (target, count) in enumerate(shape):
        if isinstance(target, RowUpdate):
            writes += [
                _row_update(target, f"{index}_{n}").cte(f"held_{index}_{n}") for n in range(count)
            ]
        else:
            rows = _bound_rows(target, count, f"{index}_")
            writes.append(insert(target).values(rows).cte(f"held_{index}"))
    return writes


@functools.lru_cache(maxsize=_SHAPES_KEPT)
def _inserts_into(shape: _Shape) -> DirectStatement:
    """The last table's INSERT, with the other writes as its WITH clauses."""
    *others, (table, count) = shape
    assert isinstance(table, Table)  # insert_into_tables puts an INSERT last
    last = insert(table).values(_bound_rows(table, count, f"{len(others)}_"))
    return DirectStatement(last.add_cte(*_held_writes(tuple(others))))


def insert_into_tables(
    session: Session, rows_by_table: Mapping[HeldTarget, list[dict[str, Any]]]
) -> None:
    """Insert rows (every column given) into several tables, and make held updates: one
    statement on PostgreSQL, one a table or updated row where INSERT cannot be part of a
    WITH clause (SQLite). Each of PostgreSQL's statements has a fixed cost (its round
    trip, parse and execution setup, the driver's and this module's own work) that is
    most of a small INSERT's."""
    held = _tables_with_rows(rows_by_table)
    # An INSERT goes last and carries the rest; updates alone go one by one.
    held.sort(key=lambda target_rows: not isinstance(target_rows[0], RowUpdate))
    alone = len(held) < 2 or isinstance(held[-1][0], RowUpdate)
    if alone or session.connection().dialect.name != "postgresql":
        for target, rows in held:
            write_rows(session, target, rows)
        return
    _inserts_into(_shape(held)).run(session, _held_parameters(held))
