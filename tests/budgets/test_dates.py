"""Whole-month date arithmetic behind release schedules and plan-line frequencies."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from budgets.dates import add_months, occurrences, periods_started


def _counted(start: date, end: date, step: int, today: date) -> tuple[int, int]:
    """The definition, period by period: what periods_started must equal."""
    total = begun = 0
    while add_months(start, total * step) <= end:
        begun += add_months(start, total * step) <= today
        total += 1
    return begun, max(total, 1)


def test_add_months_clamps_to_the_last_day_of_the_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


@pytest.mark.parametrize("step", [1, 3, 12])
@pytest.mark.parametrize(
    "start", [date(2026, 1, 31), date(2026, 2, 28), date(2026, 4, 1), date(2027, 8, 30)]
)
def test_periods_started_equals_counting_period_by_period(start: date, step: int) -> None:
    for end_offset in (-1, 0, 27, 28, 29, 30, 31, 59, 89, 90, 364, 365, 366, 730):
        end = start + timedelta(days=end_offset)
        for today in (start + timedelta(days=d) for d in range(-40, 800, 3)):
            assert periods_started(start, end, step, today) == _counted(start, end, step, today)


def test_a_year_released_monthly() -> None:
    start, end = date(2026, 4, 1), date(2027, 3, 31)
    assert periods_started(start, end, 1, date(2026, 3, 31)) == (0, 12)
    assert periods_started(start, end, 1, date(2026, 4, 1)) == (1, 12)
    assert periods_started(start, end, 1, date(2026, 6, 30)) == (3, 12)
    assert periods_started(start, end, 1, date(2030, 1, 1)) == (12, 12)


def test_occurrences_by_frequency() -> None:
    start, end = date(2026, 4, 1), date(2027, 3, 31)
    assert occurrences(start, end, "once") == 1
    assert occurrences(start, end, "weekly") == 53
    assert occurrences(start, end, "monthly") == 12
    assert occurrences(start, end, "quarterly") == 4
    assert occurrences(start, end, "yearly") == 1
