"""PostgreSQL sessions run in UTC whatever the server's TimeZone, and timestamps come back
as UTC-aware datetimes either way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, column, select, text
from sqlalchemy.engine import make_url

from app.db import UTCDateTime, _in_utc_sessions, build_engine
from tests.conftest import is_postgres

on_postgres = pytest.mark.skipif(not is_postgres(), reason="a PostgreSQL session setting")


def test_a_url_without_options_gets_a_utc_session() -> None:
    url = _in_utc_sessions(make_url("postgresql+psycopg://u@h/db"))
    assert url.query["options"] == "-c TimeZone=UTC"


def test_other_options_are_kept_beside_the_time_zone() -> None:
    url = _in_utc_sessions(make_url("postgresql+psycopg://u@h/db?options=-csearch_path%3Ds1"))
    assert url.query["options"] == "-csearch_path=s1 -c TimeZone=UTC"


def test_a_url_that_chooses_its_time_zone_keeps_it() -> None:
    given = make_url("postgresql+psycopg://u@h/db?options=-c%20TimeZone%3DEurope/London")
    assert _in_utc_sessions(given) == given


def test_timestamps_read_back_are_utc_aware_whatever_zone_they_arrive_in() -> None:
    kind = UTCDateTime()
    instant = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    in_london = instant.astimezone(timezone(timedelta(hours=1)))
    assert kind.process_result_value(instant, None) is instant
    assert kind.process_result_value(in_london, None) == instant
    assert kind.process_result_value(in_london, None).tzinfo is UTC  # type: ignore[union-attr]
    assert kind.process_result_value(instant.replace(tzinfo=None), None) == instant


@on_postgres
def test_sessions_are_in_utc_and_timestamps_come_back_with_datetime_utc(engine: Engine) -> None:
    instant = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW TimeZone")).scalar() == "UTC"
        read = connection.execute(
            select(column("at", UTCDateTime())).select_from(
                text("(SELECT CAST(:at AS timestamptz) AS at) AS probe")
            ),
            {"at": instant},
        ).scalar_one()
    assert read == instant and read.tzinfo is UTC


@on_postgres
def test_a_session_in_another_zone_still_reads_utc_timestamps(engine: Engine) -> None:
    url = engine.url.update_query_dict(
        {"options": f"{engine.url.query['options']} -c TimeZone=Europe/London"}
    )
    london = build_engine(url)
    try:
        with london.connect() as connection:
            assert connection.execute(text("SHOW TimeZone")).scalar() == "Europe/London"
            read = connection.execute(
                select(column("at", UTCDateTime())).select_from(
                    text("(SELECT CAST('2026-07-01 09:30+00' AS timestamptz) AS at) AS probe")
                )
            ).scalar_one()
    finally:
        london.dispose()
    assert read == datetime(2026, 7, 1, 9, 30, tzinfo=UTC) and read.tzinfo is UTC
