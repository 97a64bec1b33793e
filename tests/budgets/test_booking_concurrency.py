"""Racing bookings and claims through the real API: money is never over-committed and a
delivery is claimed once, whatever the interleaving (row locks on PostgreSQL, BEGIN
IMMEDIATE on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.db import get_db
from auth.models import Person
from budgets.ledger.service import line_balance
from budgets.plans.models import PlanLine
from tests.budgets.booking_builders import build_booking
from tests.budgets.builders import build_approved_line
from tests.builders import bearer_for, build_offer, build_person_user, build_provider_staff


def _race(app: Flask, count: int, call: Callable[[FlaskClient], Any]) -> list[tuple[int, Any]]:
    barrier = threading.Barrier(count)
    outcomes: list[tuple[int, Any]] = []

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        response = call(client)
        outcomes.append((response.status_code, (response.get_json() or {}).get("code")))

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _booking_of_180_on_a_line_of_1000(
    app: Flask,
) -> tuple[dict[str, Any], dict[str, str], str]:
    """A person's approved line of 1,000.00 and a booking body of 10 x 18.00 on it, as
    committed rows: the body, the person's bearer headers and the line's id."""
    setup = get_db(app).session_factory()
    user = build_person_user(setup)
    person = setup.get(Person, user.person_id)
    line = build_approved_line(setup, person=person, line_pence=2000, planned_total_pence=100_000)
    offer = build_offer(setup, price_pence=1800)
    body = {
        "offer_id": offer.id,
        "plan_line_id": line.id,
        "units": 10,
        "start_date": "2026-11-01",
        "end_date": "2026-12-31",
    }
    headers, line_id = bearer_for(setup, user), line.id
    setup.commit()
    setup.close()
    return body, headers, line_id


def _committed_on(app: Flask, line_id: str) -> int:
    check = get_db(app).session_factory()
    try:
        return line_balance(check, check.get(PlanLine, line_id)).committed
    finally:
        check.close()


def test_racing_bookings_never_commit_more_than_the_line_holds(committed_app: Flask) -> None:
    """Twelve bookings of 180.00 against a line of 1,000.00: exactly five succeed."""
    body, headers, line_id = _booking_of_180_on_a_line_of_1000(committed_app)
    outcomes = _race(
        committed_app, 12, lambda client: client.post("/v1/bookings", json=body, headers=headers)
    )
    assert outcomes.count((201, None)) == 5, outcomes
    assert outcomes.count((422, "insufficient-funds")) == 7
    assert _committed_on(committed_app, line_id) == 5 * 18_000


def test_racing_retries_of_one_booking_book_it_once(committed_app: Flask) -> None:
    """Eight sends of one booking with one Idempotency-Key at once: each does the work in
    its own transaction, the first to store its response wins, and every other is rolled
    back and answered with that response, even where its own booking would have fitted."""
    body, headers, line_id = _booking_of_180_on_a_line_of_1000(committed_app)
    headers = {**headers, "Idempotency-Key": "one-booking"}
    answers: list[tuple[str, bool]] = []

    def send(client: FlaskClient) -> Any:
        response = client.post("/v1/bookings", json=body, headers=headers)
        if response.status_code == 201:
            answers.append((response.get_json()["id"], "Idempotent-Replayed" in response.headers))
        return response

    outcomes = _race(committed_app, 8, send)
    assert outcomes == [(201, None)] * 8, outcomes
    assert len({booking_id for booking_id, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False] + [True] * 7
    assert _committed_on(committed_app, line_id) == 18_000


def test_racing_claims_for_one_delivery_make_one_claim(committed_app: Flask) -> None:
    factory = get_db(committed_app).session_factory
    setup = factory()
    line = build_approved_line(setup, line_pence=2000, planned_total_pence=100_000)
    booking = build_booking(setup, line=line, units=5)
    staff = build_provider_staff(setup, organisation=booking_organisation(setup, booking))
    headers = bearer_for(setup, staff)
    url = f"/v1/bookings/{booking.id}/claims"
    setup.commit()
    setup.close()
    body = {"delivered_on": "2026-11-03", "units": 1}
    outcomes = _race(committed_app, 8, lambda client: client.post(url, json=body, headers=headers))
    assert outcomes.count((201, None)) == 1, outcomes
    assert outcomes.count((422, "duplicate-claim")) == 7


def booking_organisation(session, booking):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    return session.get(ProviderOrganisation, booking.organisation_id)
