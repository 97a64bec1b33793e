"""IPS test fixtures: the regulated rates the migration loads are present in every test.

`committed_app` tests empty every table (the rates included), so each test here tops the
rates up from the migration's own list, inside its rolled-back transaction.
"""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from employment.models import DatedRate

_MIGRATION = next((Path(__file__).parents[2] / "migrations" / "versions").glob("0006_*.py"))


def _regulated_rates() -> list[tuple[str, int, str, int, str]]:
    spec = importlib.util.spec_from_file_location("ips_migration_0006", _MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module._REGULATED_RATES)


REGULATED_RATES = _regulated_rates()


@pytest.fixture(autouse=True)
def regulated_rates(request: pytest.FixtureRequest) -> None:
    if "committed_app" in request.fixturenames:
        return  # its own data, really committed; the rolled-back session would hold a lock
    db_session: Session = request.getfixturevalue("db_session")
    if db_session.scalar(select(DatedRate.id).limit(1)) is not None:
        return
    for kind, age, day, value, unit in REGULATED_RATES:
        db_session.add(
            DatedRate(
                kind=kind,
                min_age=age,
                effective_from=date.fromisoformat(day),
                value=value,
                unit=unit,
            )
        )
    db_session.flush()
