"""A budget as plain facts: what reads of its money and the ledger's checks need of it
(owner, status, currency, release terms, streams), without an ORM record's change tracking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
