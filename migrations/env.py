"""Alembic environment: runs against a connection handed in by the app or the tests,
or against DATABASE_URL (default: the development SQLite file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.model_registry import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from app import create_app
    from app.db import get_db

    app = create_app()
    with get_db(app).engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
