"""Regulated rates as dated data: read through the API, added from the CLI."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from employment.rates import minimum_wage_pence
from tests.builders import bearer_for, build_person_user


def test_rates_are_listed_by_kind(client: FlaskClient, db_session: Session) -> None:
    person = build_person_user(db_session)
    response = client.get(
        "/v1/employment/rates?kind=uc_taper_rate", headers=bearer_for(db_session, person)
    )
    assert response.status_code == 200
    assert [(r["value"], r["unit"]) for r in response.json["items"]] == [(5500, "basis_points")]
    bad = client.get("/v1/employment/rates?kind=beer", headers=bearer_for(db_session, person))
    assert bad.status_code == 422


def test_minimum_wage_age_bands_by_date(db_session: Session) -> None:
    born = date(2007, 4, 1)  # 18 on 2025-04-01
    assert minimum_wage_pence(db_session, on=date(2025, 3, 31), date_of_birth=born) == 640
    assert minimum_wage_pence(db_session, on=date(2025, 4, 1), date_of_birth=born) == 1000
    assert minimum_wage_pence(db_session, on=date(2026, 4, 1), date_of_birth=None) == 1271
    assert minimum_wage_pence(db_session, on=date(2020, 1, 1), date_of_birth=None) is None


def test_cli_adds_a_rate_once(app: Flask, db_session: Session) -> None:
    runner = app.test_cli_runner()
    args = [
        "employment",
        "add-rate",
        "--kind",
        "minimum_wage",
        "--min-age",
        "21",
        "--effective-from",
        "2030-04-01",
        "--value",
        "1500",
    ]
    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "added minimum_wage (age 21+) 1500 pence_per_hour" in first.output
    again = runner.invoke(args=args)
    assert again.exit_code != 0
    assert minimum_wage_pence(db_session, on=date(2030, 4, 1), date_of_birth=None) == 1500
