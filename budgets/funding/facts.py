"""A budget as plain facts: what reads of its money and the ledger's checks need of it
(owner, status, currency, release terms, streams), without an ORM record's change tracking."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from budgets.funding.models import Budget


@dataclass(frozen=True)
class StreamFacts:
    id: str
    kind: str


@dataclass(frozen=True)
class BudgetFacts:
    id: str
    person_id: str
    status: str
    release_schedule: str
    period_start: date
    period_end: date
    currency: str
    streams: tuple[StreamFacts, ...]


# The budget's columns a statement reads to build its facts, in `budget_facts`'s order.
BUDGET_FACT_COLUMNS: list[Any] = [
    Budget.id,
    Budget.person_id,
    Budget.status,
    Budget.release_schedule,
    Budget.period_start,
    Budget.period_end,
    Budget.currency,
]


def budget_facts(values: Sequence[Any], streams: Iterable[StreamFacts]) -> BudgetFacts:
    """The facts from the values of `BUDGET_FACT_COLUMNS` (the start of a row) and the
    budget's streams."""
    budget_id, person_id, status, schedule, start, end, currency = values[:7]
    return BudgetFacts(
        id=budget_id,
        person_id=person_id,
        status=status,
        release_schedule=schedule,
        period_start=start,
        period_end=end,
        currency=currency,
        streams=tuple(streams),
    )
