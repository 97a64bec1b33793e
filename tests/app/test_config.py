"""Configuration: production refuses missing or placeholder secrets and names them."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from app.config import ConfigurationError, ProductionConfig

GOOD_KEY = "k3Jd8s0Qm2Lr7Vt5Yx1Zc4Bn6Pw9Ha0Gf2Ej4Di6"
PG = "postgresql+psycopg://app@db.internal/choice"
BASE = "https://api.choiceandcontrol.test"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SECRET_KEY": None, "DATABASE_URL": PG}, "SECRET_KEY"),
        ({"SECRET_KEY": "change-me-please-change-me-please-123", "DATABASE_URL": PG}, "SECRET_KEY"),
        ({"SECRET_KEY": "short", "DATABASE_URL": PG}, "SECRET_KEY"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": None}, "DATABASE_URL"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL"),
        ({"SECRET_KEY": GOOD_KEY, "DATABASE_URL": PG}, "PUBLIC_BASE_URL"),
        (
            {"SECRET_KEY": GOOD_KEY, "DATABASE_URL": PG, "PUBLIC_BASE_URL": "http://x"},
            "PUBLIC_BASE_URL",
        ),
    ],
)
def test_production_refuses_to_start(overrides: dict, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        create_app(ProductionConfig, overrides=overrides)


def test_production_starts_with_real_secrets() -> None:
    app = create_app(
        ProductionConfig,
        overrides={"SECRET_KEY": GOOD_KEY, "DATABASE_URL": PG, "PUBLIC_BASE_URL": BASE},
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("redis_url", "warned"), [(None, True), ("redis://127.0.0.1:6379/0", False)]
)
def test_production_warns_when_rate_limit_counters_are_per_worker(
    caplog: pytest.LogCaptureFixture, redis_url: str | None, warned: bool
) -> None:
    settings = {"SECRET_KEY": GOOD_KEY, "DATABASE_URL": PG, "PUBLIC_BASE_URL": BASE}
    with caplog.at_level(logging.WARNING, logger="app.rate_limits"):
        create_app(ProductionConfig, overrides={**settings, "REDIS_URL": redis_url})

    assert any("REDIS_URL is not set" in r.getMessage() for r in caplog.records) is warned
