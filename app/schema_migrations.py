"""Alembic, driven from the application: the schema is only ever built by `upgrade head`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations, aimed at a URL or an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration not yet applied."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "head")


def head_revisions() -> tuple[str, ...]:
    """The head revision(s) of the migration scripts (one, when the chain is healthy)."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revision(s) the database is at."""
    return tuple(MigrationContext.configure(connection).get_current_heads())
