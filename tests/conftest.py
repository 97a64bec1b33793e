"""Test harness.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set. On
PostgreSQL each run gets its own schema (dropped at the end), so runs never see each
other and leave the database clean; an unreachable server fails the run loudly.

The schema is built only by `alembic upgrade head`. Each test runs inside an outer
transaction that is rolled back; services' commits become savepoint releases. Tests that
need real commits from several threads use `committed_app` and truncate afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import create_app
from app.config import TestingConfig
from app.db import WorkSession, build_engine, get_db
from app.model_registry import metadata
from app.schema_migrations import upgrade_to_head
from budgets.ledger.sums import disagreeing_budgets

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def is_postgres() -> bool:
    return bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


def _postgres_schema_url(base_url: str, schema: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this run (SQLite file, or a PostgreSQL schema)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:  # fail loudly: never skip what CI asked for
        pytest.exit(f"TEST_DATABASE_URL is set but the database is unreachable: {exc}", 3)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(TEST_DATABASE_URL, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the test database, migrated to head."""
    engine = build_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def make_app(engine: Engine, **overrides: object) -> Flask:
    """An app in testing mode that uses the shared test engine."""
    app = create_app(TestingConfig, overrides={"DATABASE_URL": str(engine.url), **overrides})
    get_db(app).engine.dispose()
    get_db(app).use_engine(engine)
    return app


@pytest.fixture(scope="session")
def app(engine: Engine) -> Flask:
    return make_app(engine)


class RolledBackDatabase:
    """Binds apps to one outer transaction that the test rolls back at the end."""

    def __init__(self, engine: Engine) -> None:
        self.connection = engine.connect()
        self.transaction = self.connection.begin()
        self.factory = sessionmaker(
            bind=self.connection,
            class_=WorkSession,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        self._bound: list[tuple[Flask, tuple[Any, Any]]] = []
        self.session: Session = self.factory()

    def bind(self, app: Flask) -> None:
        db = get_db(app)
        self._bound.append((app, (db.session_factory, db.request_session_factory)))
        db.session_factory = db.request_session_factory = self.factory

    def close(self) -> None:
        self.session.close()
        try:
            # Whatever a test did with money, each budget's running sums still match its
            # postings (budgets/ledger/sums.py).
            disagreeing = disagreeing_budgets(self.connection)
        finally:
            for app, (original, original_request) in self._bound:
                db = get_db(app)
                db.session_factory, db.request_session_factory = original, original_request
            self.transaction.rollback()
            self.connection.close()
        assert disagreeing == [], "running ledger sums differ from the postings"


@pytest.fixture
def rolled_back(engine: Engine, app: Flask) -> Iterator[RolledBackDatabase]:
    database = RolledBackDatabase(engine)
    database.bind(app)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def db_session(rolled_back: RolledBackDatabase) -> Session:
    """A session inside the test's outer transaction (what services get in requests)."""
    return rolled_back.session


@pytest.fixture
def client(app: Flask, rolled_back: RolledBackDatabase) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def committed_app(engine: Engine) -> Iterator[Flask]:
    """An app whose requests really commit (for concurrency tests); tables emptied after."""
    application = make_app(engine)
    try:
        yield application
        with engine.connect() as connection:
            assert disagreeing_budgets(connection) == [], "running sums differ from postings"
    finally:
        _empty_all_tables(engine)


def _empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            joined = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
        else:
            connection.execute(text("PRAGMA foreign_keys=OFF"))
            # foreign_keys=OFF is ignored inside a transaction; deferring lets cycles
            # (people.broker_id <-> users.person_id) be emptied in one go.
            connection.execute(text("PRAGMA defer_foreign_keys=ON"))
            for name in tables:
                connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 (table names)
            connection.execute(text("PRAGMA foreign_keys=ON"))
