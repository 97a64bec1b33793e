"""The ledger postings of the generated budgets, bookings and claims, transaction by
transaction, in budgets/ledger's shape (see bench/load_budgets.py for the rules)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.db import new_id
from budgets.dates import add_months


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def ledger_postings(
    budgets: list[Any],
    bookings: list[dict[str, Any]],
    claims: list[dict[str, Any]],
    period_start: date,
    begun: int,
    total: int,
) -> Iterator[dict[str, Any]]:
    """Every posting, transaction by transaction (two legs each, summing to zero)."""

    def transaction(
        b_id: str,
        person_id: str,
        stream: str,
        kind: str,
        source: tuple[str, str | None],
        target: tuple[str, str | None],
        amount: int,
        cause: tuple[str, str],
        actor: str | None,
        at: datetime,
    ) -> Iterator[dict[str, Any]]:
        transaction_id = new_id()
        for (account, line), signed in ((source, -amount), (target, amount)):
            yield {
                "id": new_id(),
                "transaction_id": transaction_id,
                "budget_id": b_id,
                "funding_stream_id": stream,
                "plan_line_id": line,
                "account": account,
                "kind": kind,
                "amount_pence": signed,
                "cause_type": cause[0],
                "cause_id": cause[1],
                "actor_user_id": actor,
                "on_behalf_of_person_id": person_id,
                "occurred_at": at,
            }

    person_of = {b.id: b.person_id for b in budgets}
    for b in budgets:
        for stream, allocated in zip(b.streams, b.allocated, strict=True):
            yield from transaction(
                b.id,
                b.person_id,
                stream,
                "allocation",
                ("commissioner", None),
                ("unreleased", None),
                allocated,
                ("budget", b.id),
                None,
                _at(period_start, 8),
            )
            released = 0
            for k in range(1, begun + 1):
                due = allocated * k // total - released
                released += due
                if due:
                    yield from transaction(
                        b.id,
                        b.person_id,
                        stream,
                        "release",
                        ("unreleased", None),
                        ("available", None),
                        due,
                        ("release_schedule", b.id),
                        None,
                        _at(add_months(period_start, k - 1), 8),
                    )
    for bk in bookings:
        person = person_of[bk["budget_id"]]
        line = bk["plan_line_id"]
        yield from transaction(
            bk["budget_id"],
            person,
            bk["_stream"],
            "commitment",
            ("available", None),
            ("committed", line),
            bk["total_pence"],
            ("booking", bk["id"]),
            bk["booked_by_user_id"],
            _at(bk["start_date"] - timedelta(days=3), 10),
        )
        if bk.get("status") == "declined":
            yield from transaction(
                bk["budget_id"],
                person,
                bk["_stream"],
                "commitment_release",
                ("committed", line),
                ("available", None),
                bk["total_pence"],
                ("booking", bk["id"]),
                None,
                _at(bk["start_date"] - timedelta(days=2), 11),
            )
    for claim in claims:
        if claim["_paid"]:
            yield from transaction(
                claim["budget_id"],
                claim["person_id"],
                claim["_stream"],
                "spend",
                ("committed", claim["plan_line_id"]),
                ("spent", claim["plan_line_id"]),
                claim["amount_pence"],
                ("claim", claim["id"]),
                None,
                _at(claim["delivered_on"] + timedelta(days=5), 12),
            )
