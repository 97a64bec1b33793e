"""Rate limits per user and per client: 429 problem with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import create_app
from app.config import TestingConfig
from app.rate_counters import MemoryCounters, RedisCounters
from tests.builders import bearer_for, build_person_user
from tests.conftest import RolledBackDatabase, make_app


@pytest.fixture
def limited(engine: Engine, rolled_back: RolledBackDatabase) -> Iterator[FlaskClient]:
    """A fresh app (fresh in-memory counters) allowing 3 per caller and 5 per client."""
    app = make_app(
        engine,
        RATELIMIT_ENABLED=True,
        RATE_LIMIT_PER_CALLER="3/minute",
        RATE_LIMIT_PER_CLIENT="5/minute",
    )
    rolled_back.bind(app)
    yield app.test_client()


def test_a_user_over_the_limit_gets_429_with_retry_after(
    limited: FlaskClient, db_session: Session
) -> None:
    headers = bearer_for(db_session, build_person_user(db_session))
    statuses = [limited.get("/v1/me", headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = limited.get("/v1/me", headers=headers)
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert response.get_json()["type"] == "/problems/rate-limited"
    # The sliding window counter can ask for up to two windows (tests/app/test_rate_counters.py
    # checks the figure is exact).
    assert 0 < int(response.headers["Retry-After"]) <= 120
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_the_limit_is_per_user_across_tokens(limited: FlaskClient, db_session: Session) -> None:
    user = build_person_user(db_session)
    tokens = [bearer_for(db_session, user) for _ in range(4)]
    statuses = [limited.get("/v1/me", headers=h).status_code for h in tokens]
    assert statuses == [200, 200, 200, 429]


def test_one_user_at_the_limit_does_not_throttle_another(
    limited: FlaskClient, db_session: Session
) -> None:
    first = bearer_for(db_session, build_person_user(db_session))
    second = bearer_for(db_session, build_person_user(db_session))
    for _ in range(3):
        limited.get("/v1/me", headers=first)
    assert limited.get("/v1/me", headers=first).status_code == 429
    assert limited.get("/v1/me", headers=second).status_code == 200


def test_the_client_limit_caps_all_its_users_together(
    limited: FlaskClient, db_session: Session
) -> None:
    users = [bearer_for(db_session, build_person_user(db_session)) for _ in range(3)]
    statuses = [limited.get("/v1/me", headers=h).status_code for h in users * 2]
    assert statuses == [200, 200, 200, 200, 200, 429]


def test_anonymous_requests_are_limited_by_address(limited: FlaskClient) -> None:
    statuses = [limited.get("/v1/me").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    other = limited.get("/v1/me", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401


def test_successful_responses_say_how_much_is_left(
    limited: FlaskClient, db_session: Session
) -> None:
    headers = bearer_for(db_session, build_person_user(db_session))
    response = limited.get("/v1/me", headers=headers)
    assert response.headers["X-RateLimit-Limit"] in {"3", "5"}
    assert "X-RateLimit-Remaining" in response.headers


def test_health_probes_are_never_limited(limited: FlaskClient) -> None:
    assert all(limited.get("/healthz").status_code == 200 for _ in range(8))


def test_counters_live_in_redis_when_redis_url_is_set() -> None:
    app = create_app(
        TestingConfig,
        overrides={
            "DATABASE_URL": "sqlite://",
            "REDIS_URL": "redis://127.0.0.1:6399/3",
            "RATELIMIT_ENABLED": True,
        },
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6399/3"
    assert isinstance(app.extensions["rate_counters"], RedisCounters)


def test_counters_live_in_memory_without_redis(engine: Engine) -> None:
    app = make_app(engine, RATELIMIT_ENABLED=True)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert isinstance(app.extensions["rate_counters"], MemoryCounters)


def test_a_malformed_limit_fails_at_start_not_per_request(engine: Engine) -> None:
    with pytest.raises(ValueError):
        make_app(engine, RATELIMIT_ENABLED=True, RATE_LIMIT_PER_CALLER="lots per minute")


def test_a_bad_token_counts_against_the_address(limited: FlaskClient) -> None:
    bad = {"Authorization": "Bearer not-a-real-token"}
    statuses = [limited.get("/v1/me", headers=bad).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
