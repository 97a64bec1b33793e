"""Racing requests through the real API never take a budget below zero.

Runs with real commits (`committed_app`) from many threads; on PostgreSQL the budget row
lock serialises the balance checks, on SQLite BEGIN IMMEDIATE does.
"""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select

from app.db import get_db
from auth.models import Person
from budgets.ledger import service as ledger
from budgets.ledger.models import LedgerEntry
from tests.budgets.builders import build_budget
from tests.builders import bearer_for, build_admin, build_person


def test_racing_recoveries_through_the_api_never_overspend(committed_app: Flask) -> None:
    """Sixteen requests each recovering 30.00 of 100.00 available: exactly three succeed."""
    factory = get_db(committed_app).session_factory
    setup = factory()
    person = build_person(setup)
    admin = build_admin(setup, commissioner_id=person.commissioner_id)
    budget = build_budget(
        setup, person=setup.get(Person, person.id), streams=(("other_nhs", 10_000),)
    )
    budget_id, stream_id = budget.id, budget.streams[0].id
    headers = bearer_for(setup, admin)
    setup.commit()
    setup.close()
    body = {
        "kind": "recovery",
        "funding_stream_id": stream_id,
        "amount": {"amount": 3_000, "currency": "GBP"},
        "reason": "Unspent money built up",
        "reason_code": "large_build_up",
        "notice_given_on": "2026-01-01",
    }
    threads_count = 16
    barrier = threading.Barrier(threads_count)
    outcomes: list[tuple[int, str | None]] = []

    def attempt() -> None:
        client = committed_app.test_client()
        barrier.wait()
        response = client.post(f"/v1/budgets/{budget_id}/changes", json=body, headers=headers)
        outcomes.append((response.status_code, (response.get_json() or {}).get("code")))

    threads = [threading.Thread(target=attempt) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count((201, None)) == 3
    assert outcomes.count((422, "exceeds-uncommitted-funds")) == threads_count - 3
    check = factory()
    figures = ledger.balances(check, budget_id=budget_id).overall
    assert (figures.allocated, figures.available) == (1_000, 1_000)
    sums = check.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
        .where(LedgerEntry.budget_id == budget_id)
        .group_by(LedgerEntry.account)
    ).all()
    assert sum(total for _, total in sums) == 0
    assert all(total >= 0 for account, total in sums if account != "commissioner")
    check.close()
