"""A connection the database drops (restart, failover) costs one request a 503 with
Retry-After, never a 500, and the next request works: the pool is not pre-pinged on
every checkout, so this is what keeps a restart harmless."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from app.db import build_engine, get_db
from tests.builders import bearer_for, build_person_user
from tests.conftest import _empty_all_tables, is_postgres, make_app

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="needs a server that can drop connections (PostgreSQL)"
)
APPLICATION_NAME = "lost-connection-test"


@pytest.fixture
def droppable_app(database_url: str, engine: Engine) -> Iterator[Flask]:
    own_engine = build_engine(f"{database_url}&application_name={APPLICATION_NAME}")
    application = make_app(engine)
    get_db(application).use_engine(own_engine)
    try:
        yield application
    finally:
        own_engine.dispose()
        _empty_all_tables(engine)


def _drop_app_connections(engine: Engine) -> int:
    with engine.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": APPLICATION_NAME},
        ).scalar_one()
    return int(dropped)


def test_a_dropped_connection_answers_503_then_recovers(
    droppable_app: Flask, engine: Engine
) -> None:
    session = get_db(droppable_app).session_factory()
    headers = bearer_for(session, build_person_user(session))
    session.commit()
    session.close()
    client = droppable_app.test_client()
    assert client.get("/v1/me", headers=headers).status_code == 200

    assert _drop_app_connections(engine) >= 1
    lost = client.get("/v1/me", headers=headers)

    assert lost.status_code == 503
    assert lost.headers["Retry-After"] == "1"
    assert lost.mimetype == "application/problem+json"
    assert lost.get_json()["type"].endswith("/service-unavailable")
    assert client.get("/v1/me", headers=headers).status_code == 200
