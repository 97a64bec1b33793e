"""Database: the typed declarative Base, column types we share, and one session per request.

The engine and session factory live on the app (`app.extensions["db"]`). A request gets
its session lazily from `get_session()` and it is removed at teardown. Tests swap the
session factory for one bound to an outer transaction so each test rolls back.
"""

from __future__ import annotations

import functools
import os
import re
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg._queries as _psycopg_queries
from flask import Flask, current_app, g, has_request_context
from sqlalchemy import (
    URL,
    BigInteger,
    DateTime,
    Engine,
    MetaData,
    String,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from app.json_provider import dumps_column, loads_column
from app.request_locals import request_globals

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A time-ordered opaque id (UUIDv7 layout) so keyset pagination by id follows creation."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # PostgreSQL's, in the UTC session build_engine asks for
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every model, with the naming convention Alembic relies on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), int: BigInteger()}


class IdMixin:
    """An opaque, time-ordered string primary key."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    """Creation and last-change times in UTC."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _make_sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN, and take the write lock at BEGIN.

    BEGIN IMMEDIATE serialises writers on SQLite, so the balance checks that guard a
    budget cannot interleave; PostgreSQL gets row locks instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def build_engine(url: str | URL, *, echo: bool = False, autocommit: bool = False) -> Engine:
    """An engine for the given URL, with SQLite made to behave transactionally.

    SQL parameters are kept out of exception messages: they hold NHS numbers, names and
    notes, and a database error's text ends up in the log. `autocommit` (PostgreSQL)
    gives an engine whose connections read outside a transaction, for requests.
    """
    shared: dict[str, Any] = {
        "echo": echo,
        "hide_parameters": True,
        "json_deserializer": loads_column,
        "json_serializer": dumps_column,
    }
    if str(url).startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **shared)
        _make_sqlite_transactional(engine)
        return engine
    # No pre-ping: it costs a round trip on every request. A connection the server has
    # dropped fails its request with 503 + Retry-After instead (app/errors.py), and that
    # failure makes SQLAlchemy discard every pooled connection opened before it.
    shared |= {"pool_size": 10, "max_overflow": 10}
    parsed = _in_utc_sessions(make_url(url))
    if not autocommit:
        return create_engine(parsed, **shared)
    hooked_dialect = parsed.drivername == "postgresql+psycopg"
    engine = create_engine(
        parsed.set(drivername=TransactionOnFirstWriteDialect.NAME) if hooked_dialect else parsed,
        isolation_level="AUTOCOMMIT",
        **shared,
    )
    if not hooked_dialect:  # another driver: the same hook, as a (slower) event listener
        event.listen(engine, "before_cursor_execute", _open_transaction_on_first_write_event)
    event.listen(engine.pool, "checkin", _back_to_autocommit)
    return engine


def _in_utc_sessions(url: URL) -> URL:
    """The URL with its sessions' TimeZone set to UTC, unless it sets one itself.

    psycopg then returns timestamps with `datetime.UTC` itself, which UTCDateTime passes
    through instead of converting each one (a page of offers holds about 65), and nothing
    the database computes from a timestamp depends on the server's own TimeZone.
    """
    options = url.query.get("options", "")
    options = " ".join(options) if isinstance(options, tuple) else options
    if "timezone" in options.lower():
        return url
    return url.update_query_dict({"options": f"{options} -c TimeZone=UTC".strip()})


# A statement that must run inside a transaction: anything but a plain SELECT or SHOW (writes,
# CTEs that may write), a row lock, or a transaction-scoped advisory lock.
_NEEDS_TRANSACTION = re.compile(
    r"^\s*(?!SELECT\b|SHOW\b)|\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE|KEY\s+SHARE)\b|pg_advisory_xact",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def _needs_transaction(statement: str) -> bool:
    # Statements come from SQLAlchemy's compiled cache, so the same few hundred strings
    # recur: the regex runs once per string, not once per execution.
    return _NEEDS_TRANSACTION.search(statement) is not None


STANDS_ALONE = "stands_alone"
"""Execution option for a one-row write that is complete by itself (a read's audit row,
an idempotency claim): with no transaction open, it commits on its own."""


def open_transaction_on_first_write(
    dbapi_connection: Any, statement: str, *, stands_alone: bool
) -> None:
    """On a connection that reads outside a transaction, the first write or lock opens one.

    Until then each SELECT runs on its own, as it would inside a READ COMMITTED
    transaction (every statement takes a fresh snapshot there too), but without the
    BEGIN and ROLLBACK round trips. From the first write on, the DBAPI connection is
    transactional again, so that write and every later one commit or roll back together.
    A single-row write that stands alone, before any other write, commits at once.
    Connections that are transactional anyway (SQLite, the command engine) are left be.
    """
    if getattr(dbapi_connection, "autocommit", False) is not True or stands_alone:
        return
    if _needs_transaction(statement):
        dbapi_connection.autocommit = False


def _open_transaction_on_first_write(
    cursor: Any, statement: str, context: Any, *, many: bool
) -> None:
    stands_alone = (
        not many and context is not None and bool(context.execution_options.get(STANDS_ALONE))
    )
    open_transaction_on_first_write(cursor.connection, statement, stands_alone=stands_alone)


def _open_transaction_on_first_write_event(
    _conn: Any, cursor: Any, statement: str, _params: Any, context: Any, many: bool
) -> None:
    _open_transaction_on_first_write(cursor, statement, context, many=many)


class TransactionOnFirstWriteDialect(PGDialect_psycopg):
    """psycopg for the request engine, whose connections read outside a transaction and
    open one at their first write or lock (`_open_transaction_on_first_write`).

    The hook is in the dialect's execute methods rather than a `before_cursor_execute`
    listener: once an engine has a listener, SQLAlchemy runs every statement on its
    event-dispatching path, which cost the reference app 140,000 instructions a request
    (7%) with a listener that did nothing.
    """

    NAME = "postgresql+psycopg_requests"
    supports_statement_cache = True  # only execution is hooked; compilation is psycopg's

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        _open_transaction_on_first_write(cursor, statement, context, many=False)
        super().do_execute(cursor, statement, parameters, context)

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        _open_transaction_on_first_write(cursor, statement, context, many=False)
        super().do_execute_no_params(cursor, statement, context)

    def do_executemany(
        self, cursor: Any, statement: str, parameters: Any, context: Any = None
    ) -> None:
        _open_transaction_on_first_write(cursor, statement, context, many=True)
        super().do_executemany(cursor, statement, parameters, context)


registry.register(
    TransactionOnFirstWriteDialect.NAME.replace("+", "."),
    __name__,
    "TransactionOnFirstWriteDialect",
)


def _back_to_autocommit(dbapi_connection: Any, record: Any) -> None:
    """A connection that opened a transaction for a write goes back to the pool reading
    outside one again (the pool has already rolled back whatever was not committed)."""
    if dbapi_connection is None or dbapi_connection.autocommit:
        return
    try:
        dbapi_connection.autocommit = True
    except Exception:  # a broken connection: the pool opens a new one in its place
        record.invalidate()


# Request engines by the engine they were derived from: one pool each, however many
# times a Database is made over the same engine (tests make many).
_request_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def request_engine_for(engine: Engine) -> Engine:
    """The autocommit engine (own pool) that requests use alongside `engine`."""
    found = _request_engines.get(engine)
    if found is None:
        found = build_engine(engine.url, echo=bool(engine.echo), autocommit=True)
        _request_engines[engine] = found
    return found


def _let_psycopg_keep_long_statements() -> None:
    """psycopg keeps its parse of a statement (placeholders to $n) only for statements
    under 4 KB with at most 50 parameters, and parses any other on every execution: a
    booking's held rows (one INSERT into four tables, about 100 values) cost 30% more
    instructions than the separate INSERTs did. Its cache holds at most 128 statements."""
    if hasattr(_psycopg_queries, "MAX_CACHED_STATEMENT_LENGTH"):  # psycopg 3.1 to 3.3
        limit = max(_psycopg_queries.MAX_CACHED_STATEMENT_LENGTH, 32_768)
        _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = limit
    if hasattr(_psycopg_queries, "MAX_CACHED_STATEMENT_PARAMS"):
        limit = max(_psycopg_queries.MAX_CACHED_STATEMENT_PARAMS, 400)
        _psycopg_queries.MAX_CACHED_STATEMENT_PARAMS = limit


_let_psycopg_keep_long_statements()

HELD_ROWS = "held_rows"


class WorkSession(Session):
    """A Session whose commits can be held, so that what follows joins the same transaction,
    and which can hold plain rows back until its next statement, to insert them together.

    Inside `commits_held()`, `commit()` only writes the ORM's changes, and leaves held rows
    for the holder's next statement: the work stays uncommitted until the holder commits
    it, together with whatever it adds (an idempotent request's stored response, which
    carries the held rows), or rolls it all back.
    """

    _commits_held = False

    def hold_rows(self, table: Any, rows: list[dict[str, Any]], *, key: str | None = None) -> None:
        """Insert these rows (every column given) just before the session's next statement
        of any kind, together with the other rows held: a flush, a commit, any statement
        the session executes (ORM or Core, lazy loads included), a `DirectStatement`, a
        savepoint. So nothing this session reads can miss them, and a use case's last
        writes go to the database as one statement (on PostgreSQL, app/direct_sql.py
        `insert_into_tables`). A rollback discards them. Callers check `holds_rows()`
        first.

        Held rows may refer only to rows already stored (`flush_changes` first), and go
        before the ORM's own changes at a flush, which may then update them. With `key`
        (updates of stored rows, which one statement can make only once a row), a row
        takes the place of the one held for the same `key` value."""
        held = self.info.setdefault(HELD_ROWS, {}).setdefault(table, [])
        if key is None:
            held.extend(rows)
            return
        by_key = {row[key]: row for row in held}
        by_key.update((row[key], row) for row in rows)
        held[:] = by_key.values()

    def holds_rows(self) -> bool:
        """Whether `hold_rows` may hold rows back now: not inside a savepoint, whose
        rollback would otherwise leave them behind or take them away alone."""
        return not self.in_nested_transaction()

    def send_held_rows(self) -> None:
        held = self.info.pop(HELD_ROWS, None)
        if not held:
            return
        from app.direct_sql import insert_into_tables  # app.direct_sql is built on this module

        insert_into_tables(self, held)

    def flush(self, objects: Any = None) -> None:
        self.send_held_rows()
        super().flush(objects)

    def flush_changes(self) -> None:
        """Write the ORM's pending changes, as its autoflush would before a statement;
        with none, held rows stay held, to go with the next ones."""
        if not self._is_clean():
            self.flush()

    def begin_nested(self) -> Any:
        self.send_held_rows()  # what the savepoint's work reads includes them
        return super().begin_nested()

    def commit(self) -> None:
        if self._commits_held:
            # The holder's next statement (an idempotent request's stored response) or
            # its commit takes the held rows with it.
            self.flush_changes()
        else:
            self.send_held_rows()
            super().commit()

    def rollback(self) -> None:
        self.info.pop(HELD_ROWS, None)
        super().rollback()

    def close(self) -> None:
        self.info.pop(HELD_ROWS, None)
        super().close()

    @contextmanager
    def commits_held(self) -> Iterator[None]:
        self._commits_held = True
        try:
            yield
        finally:
            self._commits_held = False


@event.listens_for(WorkSession, "do_orm_execute")
def _send_held_rows_first(state: ORMExecuteState) -> None:
    """Every statement a session executes (ORM or Core, lazy loads included) comes after
    its held rows, even when autoflush does not run."""
    state.session.send_held_rows()  # type: ignore[attr-defined]


class Database:
    """The app's engines and session factories.

    `session_factory` sessions are transactional from their first statement (commands,
    jobs). `request_session_factory` sessions, which requests use, read outside a
    transaction on PostgreSQL and open one at their first write or lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.use_engine(engine)

    def use_engine(self, engine: Engine) -> None:
        """Bind both session factories to this engine."""
        self.engine = engine
        self.session_factory: Callable[[], WorkSession] = sessionmaker(
            bind=engine, class_=WorkSession, expire_on_commit=False
        )
        self.request_engine = engine
        if engine.dialect.name == "postgresql":
            # Its own engine and pool rather than `engine.execution_options(isolation_level=
            # "AUTOCOMMIT")`: that shares the pool but sets and resets the isolation level
            # on every checkout and checkin: about 3% of a read's instructions in the worker.
            self.request_engine = request_engine_for(engine)
        self.request_session_factory: Callable[[], WorkSession] = sessionmaker(
            bind=self.request_engine, class_=WorkSession, expire_on_commit=False
        )

    def init_app(self, app: Flask) -> None:
        app.extensions["db"] = self
        app.teardown_appcontext(_remove_session)


def get_db(app: Flask | None = None) -> Database:
    """The Database of the given (or current) app."""
    return (app or current_app).extensions["db"]


def get_session() -> WorkSession:
    """The session for this request (or app context), created on first use."""
    globals_ = request_globals()
    session: WorkSession | None = globals_.get("db_session")
    if session is None:
        db = get_db()
        factory = db.request_session_factory if has_request_context() else db.session_factory
        session = globals_.db_session = factory()
    return session


def _remove_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
