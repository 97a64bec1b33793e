"""Racing payments through the real API with real commits (PostgreSQL row locks in CI;
SQLite serialises writers): one claim is paid once, and a budget is never overdrawn."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.db import get_db
from budgets.bookings.models import Booking
from budgets.ledger import service as ledger
from budgets.payments.models import Payment
from tests.budgets.payments.builders import build_claim, build_world
from tests.builders import bearer_for
from tests.fake_stripe import FakeStripe


def race(app: Flask, requests: list[tuple[str, dict[str, str]]]) -> list[Any]:
    """POST each (url, headers) from its own thread, all released at once."""
    barrier = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def post(index: int, url: str, headers: dict[str, str]) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(url, headers=headers)
        results[index] = (response.status_code, response.get_json())

    threads = [
        threading.Thread(target=post, args=(i, url, headers))
        for i, (url, headers) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_payments_of_one_claim_pay_once(
    committed_app: Flask, fake_stripe: FakeStripe
) -> None:
    setup = get_db(committed_app).session_factory()
    world = build_world(setup, fake_stripe)
    claim = build_claim(setup, world, amount_pence=7_000)
    headers = bearer_for(setup, world.admin)
    budget_id = world.budget_id
    setup.commit()
    setup.close()

    results = race(committed_app, [(f"/v1/claims/{claim.id}/payments", headers)] * 6)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409, 409, 409], results
    assert len(fake_stripe.transfers) == 1
    check = get_db(committed_app).session_factory()
    assert check.scalar(select(func.count()).select_from(Payment)) == 1
    assert ledger.balances(check, budget_id=budget_id).overall.spent == 7_000
    check.close()


def test_concurrent_payments_across_claims_never_overdraw(
    committed_app: Flask, fake_stripe: FakeStripe
) -> None:
    setup = get_db(committed_app).session_factory()
    world = build_world(setup, fake_stripe)
    # 10,000 is held for the line; eight claims of 3,000 race for it: three can be paid.
    first = build_claim(setup, world, amount_pence=3_000, commit_pence=10_000)
    booking = setup.get(Booking, first.booking_id)
    claims = [first] + [
        build_claim(setup, world, amount_pence=3_000, booking=booking) for _ in range(7)
    ]
    headers = bearer_for(setup, world.admin)
    budget_id = world.budget_id
    setup.commit()
    setup.close()

    results = race(committed_app, [(f"/v1/claims/{c.id}/payments", headers) for c in claims])
    paid = [body for status, body in results if status == 201]
    refused = [body for status, body in results if status == 422]
    assert len(paid) == 3 and all(p["status"] == "paid" for p in paid), results
    assert len(refused) == 5 and {r["code"] for r in refused} == {"exceeds-committed"}
    assert len(fake_stripe.transfers) == 3
    check = get_db(committed_app).session_factory()
    overall = ledger.balances(check, budget_id=budget_id).overall
    assert (overall.committed, overall.spent) == (1_000, 9_000)
    assert overall.available >= 0
    check.close()


def test_concurrent_retries_with_one_idempotency_key_pay_once(
    committed_app: Flask, fake_stripe: FakeStripe
) -> None:
    setup = get_db(committed_app).session_factory()
    world = build_world(setup, fake_stripe)
    claim = build_claim(setup, world, amount_pence=2_000)
    headers = {**bearer_for(setup, world.admin), "Idempotency-Key": "one-intent"}
    setup.commit()
    setup.close()

    results = race(committed_app, [(f"/v1/claims/{claim.id}/payments", headers)] * 5)
    bodies = [body for status, body in results if status == 201]
    in_use = [body for status, body in results if status == 409]
    assert bodies and len(bodies) + len(in_use) == 5, results
    assert {body["id"] for body in bodies} == {bodies[0]["id"]}  # replays of the one payment
    assert {body["type"] for body in in_use} <= {
        "/problems/idempotency-key-in-use",
        "/problems/conflict",
    }
    assert len(fake_stripe.transfers) == 1
