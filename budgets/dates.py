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
    """(periods begun by `today`, total periods) when [start, end] is cut every `step_months`."""
    total = 0
    begun = 0
    while add_months(start, total * step_months) <= end:
        if add_months(start, total * step_months) <= today:
            begun += 1
        total += 1
    return begun, max(total, 1)


def occurrences(start: date, end: date, frequency: str) -> int:
    """How many times something of this frequency happens in [start, end], at least once."""
    if frequency == "once":
        return 1
    if frequency == "weekly":
        return max(1, -(-((end - start).days + 1) // 7))
    step = {"monthly": 1, "quarterly": 3, "yearly": 12}[frequency]
    return periods_started(start, end, step, end)[1]
