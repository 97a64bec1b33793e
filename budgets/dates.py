"""Date arithmetic the budget rules need: whole months, and counting occurrences."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def periods_started(start: date, end: date, step_months: int, today: date) -> tuple[int, int]:
    """(periods begun by `today`, total periods) when [start, end] is cut every `step_months`.

    Period k begins on add_months(start, k * step_months); a period counts if it begins by
    `end`, and has begun if it begins by `today`.
    """
    total = _periods_beginning_by(start, end, step_months)
    return min(_periods_beginning_by(start, today, step_months), total), max(total, 1)


def _periods_beginning_by(start: date, day: date, step_months: int) -> int:
    # Computed, not counted: a balance read asks this on every request.
    months = (day.year - start.year) * 12 + day.month - start.month
    if add_months(start, months) > day:  # `day` is earlier in its month than the start's day
        months -= 1
    return months // step_months + 1 if months >= 0 else 0


def occurrences(start: date, end: date, frequency: str) -> int:
    """How many times something of this frequency happens in [start, end], at least once."""
    if frequency == "once":
        return 1
    if frequency == "weekly":
        return max(1, -(-((end - start).days + 1) // 7))
    step = {"monthly": 1, "quarterly": 3, "yearly": 12}[frequency]
    return periods_started(start, end, step, end)[1]
