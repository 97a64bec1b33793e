"""How big the generated dataset is, and what the journeys learn about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Sizes:
    people: int
    providers: int
    offers: int
    bookings: int
    ledger_entries: int
    referrals: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def scaled(full: int) -> int:
            return max(10, int(full * scale))

        return cls(
            people=scaled(50_000),
            providers=scaled(2_000),
            offers=scaled(50_000),
            bookings=scaled(500_000),
            ledger_entries=scaled(5_000_000),
            referrals=scaled(20_000),
        )


@dataclass
class Generated:
    """What the journeys need: who can sign in, and which records are theirs."""

    person_tokens: list[tuple[str, str]] = field(default_factory=list)  # (token, person id)
    broker_tokens: list[str] = field(default_factory=list)
    provider_tokens: list[tuple[str, str]] = field(default_factory=list)  # (token, org id)
    admin_tokens: list[str] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)
    # person id -> (user id, broker user id, commissioner id)
    person_accounts: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # category -> [(offer id, organisation id, unit, price in pence)], published and bookable
    offers_by_category: dict[str, list[tuple[str, str, str, int]]] = field(default_factory=dict)
    offer_ids_newest_first: list[str] = field(default_factory=list)
    budget_of: dict[str, str] = field(default_factory=dict)  # person id -> budget id
    plan_of: dict[str, str] = field(default_factory=dict)  # person id -> approved plan id
    # person id -> the roomy plan line bookings in the bench are made against
    bench_line_of: dict[str, BenchLine] = field(default_factory=dict)
    # (person id, claim id) of submitted claims the person can confirm
    submitted_claims: list[tuple[str, str]] = field(default_factory=list)
    # (provider token, IPS service id) for staff of the organisation running the service
    ips_services: list[tuple[str, str]] = field(default_factory=list)
    # one budget whose line has room for exactly `capped_line.bookings_allowed` bookings
    capped_line: BenchLine | None = None
    statement_month: tuple[int, int] = (2026, 1)
    secret: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def token_of(self, person_id: str) -> str:
        return self._tokens()[person_id]

    def _tokens(self) -> dict[str, str]:
        cached = self.extra.get("_token_of")
        if cached is None:
            cached = {pid: token for token, pid in self.person_tokens}
            self.extra["_token_of"] = cached
        return dict(cached)


@dataclass(frozen=True)
class BenchLine:
    """A plan line of an approved plan with money for bench bookings, and its offers."""

    person_id: str
    budget_id: str
    line_id: str
    category: str
    unit: str
    unit_cost_pence: int
    start_date: date
    end_date: date
    bookings_allowed: int = 0
