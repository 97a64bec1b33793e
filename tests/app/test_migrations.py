"""The migration chain: one head, empty-to-head on this database, and no drift from the models."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from app.db import build_engine
from app.model_registry import metadata
from app.schema_migrations import alembic_config, current_revisions, head_revisions
from tests.conftest import TEST_DATABASE_URL, _postgres_schema_url, is_postgres


def test_exactly_one_head() -> None:
    assert len(head_revisions()) == 1


def test_database_is_at_head(engine: Engine) -> None:
    with engine.connect() as connection:
        assert current_revisions(connection) == head_revisions()


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), metadata
        )
    assert diff == []


def test_upgrade_from_empty_then_downgrade_to_empty(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if is_postgres():
        assert TEST_DATABASE_URL
        schema = f"mig_{uuid.uuid4().hex[:10]}"
        admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_schema_url(TEST_DATABASE_URL, schema)
    else:
        url = f"sqlite:///{tmp_path / 'migrate.db'}"
    fresh = build_engine(url)
    try:
        with fresh.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
        tables = set(inspect(fresh).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
        with fresh.begin() as connection:
            command.downgrade(alembic_config(connection=connection), "base")
        assert set(inspect(fresh).get_table_names()) <= {"alembic_version"}
    finally:
        fresh.dispose()
        if is_postgres():
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_every_models_module_is_registered() -> None:
    """Alembic only sees models imported by app.model_registry; a missing one would be dropped."""
    import importlib
    import pkgutil

    from app.db import Base
    from app.model_registry import MODEL_MODULES

    for package_name in ("app", "auth", "budgets", "employment", "mobile_contract"):
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            importlib.import_module(module.name)
    defining = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert defining <= {module.__name__ for module in MODEL_MODULES}
