"""Bookings and claims through the API: the life cycle, every refusal, the money in the
ledger, and who may see or act on what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.db import get_db, utcnow
from app.notifications import Notification
from auth.models import Person, User
from budgets.bookings.claims.service import confirm_due_claims
from budgets.bookings.models import Claim
from budgets.funding.models import Budget
from budgets.ledger.models import LedgerEntry
from budgets.ledger.service import line_balance
from budgets.plans.models import PlanLine
from budgets.providers.models import ProviderOrganisation
from budgets.providers.offers.models import Offer
from tests.budgets.builders import build_approved_line, build_budget, build_line, build_plan
from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_broker,
    build_offer,
    build_person_user,
    build_provider,
    build_provider_staff,
    build_representative,
)
from tests.conftest import is_postgres


@dataclass
class World:
    person_user: User
    person: Person
    line: PlanLine
    organisation: ProviderOrganisation
    staff: User
    offer: Offer
    session: Session

    def h(self, user: User) -> dict[str, str]:
        return bearer_for(self.session, user)

    def committed(self) -> int:
        return line_balance(self.session, self.line).committed


@pytest.fixture
def world(db_session: Session) -> World:
    broker = build_broker(db_session)
    person_user = build_person_user(
        db_session, commissioner_id=broker.commissioner_id, broker_id=broker.id
    )
    person = db_session.get(Person, person_user.person_id)
    assert person is not None
    line = build_approved_line(
        db_session, person=person, line_pence=2000, planned_total_pence=100_000
    )
    organisation = build_provider(db_session)
    staff = build_provider_staff(db_session, organisation=organisation)
    offer = build_offer(
        db_session,
        organisation=organisation,
        price_pence=1800,
        cancellation_notice_hours=48,
        cancellation_charge_percent=50,
    )
    return World(person_user, person, line, organisation, staff, offer, db_session)


def booking_body(world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "offer_id": world.offer.id,
        "plan_line_id": world.line.id,
        "units": 10,
        "start_date": "2026-11-01",
        "end_date": "2026-12-31",
        "schedule": "Tuesdays 10:00-12:00",
    }
    body.update(overrides)
    return body


def book(client, world: World, user: User | None = None, **overrides: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/bookings",
        json=booking_body(world, **overrides),
        headers=world.h(user or world.person_user),
    )


def test_booking_and_claim_life_cycle(client, world: World) -> None:  # type: ignore[no-untyped-def]
    response = book(client, world)
    assert response.status_code == 201, response.json
    booking = response.json
    assert booking["status"] == "requested"
    assert booking["unit_price"] == {"amount": 1800, "currency": "GBP"}
    assert booking["total"]["amount"] == 18_000
    assert world.committed() == 18_000
    provider = world.h(world.staff)
    notes = world.session.scalars(
        select(Notification.kind).where(Notification.user_id == world.staff.id)
    ).all()
    assert "booking.requested" in notes

    # A later price change never alters the booking.
    world.offer.price_pence = 2500
    world.session.flush()
    url = f"/v1/bookings/{booking['id']}"
    assert client.get(url, headers=provider).json["unit_price"]["amount"] == 1800

    accepted = client.post(f"{url}/accept", headers=provider)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert client.post(f"{url}/accept", headers=provider).status_code == 409

    claim = client.post(
        f"{url}/claims", json={"delivered_on": "2026-11-03", "units": 2}, headers=provider
    )
    assert claim.status_code == 201, claim.json
    assert claim.json["status"] == "submitted" and claim.json["amount"]["amount"] == 3600
    person = world.h(world.person_user)
    confirmed = client.post(f"/v1/claims/{claim.json['id']}/confirm", headers=person)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert client.post(f"/v1/claims/{claim.json['id']}/confirm", headers=person).status_code == 409

    second = client.post(
        f"{url}/claims", json={"delivered_on": "2026-11-10", "units": 3}, headers=provider
    ).json
    disputed = client.post(
        f"/v1/claims/{second['id']}/dispute", json={"reason": "Only 2 hours"}, headers=person
    )
    assert disputed.json["status"] == "disputed"
    again = client.post(
        f"{url}/claims", json={"delivered_on": "2026-11-10", "units": 2}, headers=provider
    )
    assert again.status_code == 201  # a disputed delivery may be claimed again, correctly
    told = world.session.execute(
        select(Notification.record_id, Notification.kind).where(
            Notification.user_id == world.staff.id, Notification.record_type == "claim"
        )
    ).all()
    assert set(told) == {
        (claim.json["id"], "claim.confirmed"),
        (second["id"], "claim.disputed"),
    }

    listed = client.get(f"{url}/claims", headers=person).json["items"]
    assert {c["status"] for c in listed} == {"confirmed", "disputed", "submitted"}
    # Money stays committed until payments pays confirmed claims.
    assert world.committed() == 18_000

    completed = client.post(f"{url}/complete", headers=provider)
    assert completed.json["status"] == "completed"
    # 2 + 2 hours claimed and standing; the other 6 hours go back to the budget.
    assert completed.json["released"]["amount"] == 6 * 1800
    assert world.committed() == 4 * 1800


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "therapy"}, "category-mismatch"),
        ({"unit": "session"}, "unit-mismatch"),
        ({"price_pence": 2001}, "price-above-plan-line"),
        ({"status": "withdrawn"}, "offer-not-available"),
        ({"accepting_new_people": False}, "offer-not-accepting"),
    ],
)
def test_booking_refusals_about_the_offer(client, world: World, change, code) -> None:  # type: ignore[no-untyped-def]
    for field, value in change.items():
        setattr(world.offer, field, value)
    world.session.flush()
    response = book(client, world)
    assert response.status_code == 422, response.json
    assert response.json["code"] == code
    assert world.committed() == 0


def test_an_offer_closed_to_new_people_still_takes_those_it_already_supports(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    assert book(client, world, units=1).status_code == 201
    world.offer.accepting_new_people = False
    world.session.flush()
    again = book(client, world, units=1)
    assert again.status_code == 201, again.json
    assert world.committed() == 2 * world.offer.price_pence


def test_booking_a_line_or_offer_that_is_not_there_is_404(client, world: World) -> None:  # type: ignore[no-untyped-def]
    no_offer = book(client, world, offer_id="no-such-offer")
    assert no_offer.status_code == 404 and no_offer.json["detail"] == "No such offer."
    no_line = book(client, world, plan_line_id="no-such-line")
    assert no_line.status_code == 404 and no_line.json["detail"] == "No such plan line."
    neither = book(client, world, plan_line_id="no-such-line", offer_id="no-such-offer")
    assert neither.status_code == 404 and neither.json["detail"] == "No such plan line."
    world.offer.status = "draft"
    world.session.flush()
    draft = book(client, world)
    assert draft.status_code == 404 and draft.json["detail"] == "No such offer."
    assert world.committed() == 0


def test_booking_refusals_about_the_plan_and_money(client, world: World) -> None:  # type: ignore[no-untyped-def]
    outside = book(client, world, start_date="2026-03-01")
    assert outside.json["code"] == "dates-outside-plan-line"
    too_much = book(client, world, units=60)  # 60 x 18.00 > the line's 1,000.00
    assert too_much.status_code == 422 and too_much.json["code"] == "insufficient-funds"
    world.line.plan.status = "submitted"
    world.session.flush()
    assert book(client, world).json["code"] == "plan-not-approved"
    assert world.committed() == 0
    bad_dates = book(client, world, start_date="2026-12-01", end_date="2026-11-01")
    assert bad_dates.status_code == 422 and "end_date" in bad_dates.json["errors"]
    assert book(client, world, units=0).status_code == 422
    assert book(client, world, colour="red").status_code == 422


def test_provider_suspension_and_capacity(client, world: World, db_session) -> None:  # type: ignore[no-untyped-def]
    world.offer.capacity = 1
    db_session.flush()
    assert book(client, world, units=1).status_code == 201
    other = build_person_user(db_session)
    other_person = db_session.get(Person, other.person_id)
    other_line = build_approved_line(
        db_session, person=other_person, line_pence=2000, planned_total_pence=100_000
    )
    full = book(client, world, user=other, plan_line_id=other_line.id, units=1)
    assert full.json["code"] == "offer-at-capacity"
    # The same person may book again: they are not new to the provider.
    assert book(client, world, units=1).status_code == 201

    from tests.builders import build_admin

    admin = bearer_for(db_session, build_admin(db_session))
    client.post(
        f"/v1/providers/{world.organisation.id}/suspend",
        json={"reason": "Safeguarding review"},
        headers=admin,
    )
    told = db_session.scalars(
        select(Notification.kind).where(Notification.user_id == world.person_user.id)
    ).all()
    assert "provider.suspended" in told
    assert book(client, world, units=1).json["code"] == "provider-not-bookable"


def test_decline_releases_the_money(client, world: World) -> None:  # type: ignore[no-untyped-def]
    booking = book(client, world).json
    provider = world.h(world.staff)
    url = f"/v1/bookings/{booking['id']}/decline"
    assert client.post(url, json={}, headers=provider).status_code == 422
    declined = client.post(url, json={"reason": "No carers free"}, headers=provider)
    assert declined.json["status"] == "declined"
    assert declined.json["decline_reason"] == "No carers free"
    assert world.committed() == 0


def test_late_cancellation_by_the_person_is_charged_per_terms(client, world: World) -> None:  # type: ignore[no-untyped-def]
    booking = book(client, world).json  # started 2026-11-01: any cancellation now is late
    client.post(f"/v1/bookings/{booking['id']}/accept", headers=world.h(world.staff))
    cancelled = client.post(
        f"/v1/bookings/{booking['id']}/cancel",
        json={"reason": "Moving away"},
        headers=world.h(world.person_user),
    )
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["cancelled_by_side"] == "person"
    assert cancelled.json["cancellation_charge"]["amount"] == 9000  # 50% of 180.00
    assert cancelled.json["released"]["amount"] == 9000
    charge = world.session.scalars(select(Claim).where(Claim.booking_id == booking["id"])).one()
    assert charge.kind == "cancellation_charge" and charge.status == "confirmed"
    assert charge.amount_pence == 9000
    assert world.committed() == 9000  # held until payments pays the charge


def test_cancellation_with_notice_or_by_the_provider_is_free(client, world: World) -> None:  # type: ignore[no-untyped-def]
    early = book(client, world, start_date="2027-01-10", end_date="2027-02-10").json
    client.post(f"/v1/bookings/{early['id']}/accept", headers=world.h(world.staff))
    free = client.post(
        f"/v1/bookings/{early['id']}/cancel",
        json={"reason": "Plans changed"},
        headers=world.h(world.person_user),
    ).json
    assert free["cancellation_charge"]["amount"] == 0
    late = book(client, world).json
    client.post(f"/v1/bookings/{late['id']}/accept", headers=world.h(world.staff))
    by_provider = client.post(
        f"/v1/bookings/{late['id']}/cancel",
        json={"reason": "Carer left"},
        headers=world.h(world.staff),
    ).json
    assert by_provider["cancelled_by_side"] == "provider"
    assert by_provider["cancellation_charge"]["amount"] == 0
    assert world.committed() == 0
    again = client.post(
        f"/v1/bookings/{late['id']}/cancel",
        json={"reason": "Again"},
        headers=world.h(world.staff),
    )
    assert again.status_code == 409


def test_claim_refusals(client, world: World) -> None:  # type: ignore[no-untyped-def]
    booking = book(client, world, units=3).json
    provider = world.h(world.staff)
    url = f"/v1/bookings/{booking['id']}/claims"
    early = client.post(url, json={"delivered_on": "2026-11-03", "units": 1}, headers=provider)
    assert early.status_code == 409  # not accepted yet
    client.post(f"/v1/bookings/{booking['id']}/accept", headers=provider)
    cases = [
        ({"delivered_on": "2026-10-30", "units": 1}, "claim-date-outside-booking"),
        ({"delivered_on": "2026-12-30", "units": 1}, "claim-date-in-future"),
        ({"delivered_on": "2026-11-03", "units": 4}, "claim-exceeds-booked-units"),
    ]
    for body, code in cases:
        response = client.post(url, json=body, headers=provider)
        assert response.status_code == 422 and response.json["code"] == code, response.json
    assert (
        client.post(
            url, json={"delivered_on": "2026-11-03", "units": 2}, headers=provider
        ).status_code
        == 201
    )
    duplicate = client.post(url, json={"delivered_on": "2026-11-03", "units": 1}, headers=provider)
    assert duplicate.json["code"] == "duplicate-claim"
    over = client.post(url, json={"delivered_on": "2026-11-04", "units": 2}, headers=provider)
    assert over.json["code"] == "claim-exceeds-booked-units"
    assert (
        client.post(url, json={"delivered_on": "soon", "units": 1}, headers=provider).status_code
        == 422
    )


def test_unanswered_claims_confirm_themselves(client, world: World, db_session) -> None:  # type: ignore[no-untyped-def]
    booking = book(client, world).json
    provider = world.h(world.staff)
    client.post(f"/v1/bookings/{booking['id']}/accept", headers=provider)
    claim = client.post(
        f"/v1/bookings/{booking['id']}/claims",
        json={"delivered_on": "2026-11-03", "units": 1},
        headers=provider,
    ).json
    assert confirm_due_claims(db_session) == 0
    assert confirm_due_claims(db_session, now=utcnow() + timedelta(days=8)) == 1
    row = db_session.get(Claim, claim["id"])
    assert row.status == "confirmed" and row.auto_confirmed and row.is_payable


def test_who_may_see_and_act(client, world: World, db_session) -> None:  # type: ignore[no-untyped-def]
    booking = book(client, world).json
    url = f"/v1/bookings/{booking['id']}"
    other_org = build_provider(db_session)
    other_staff = bearer_for(db_session, build_provider_staff(db_session, organisation=other_org))
    stranger = bearer_for(db_session, build_person_user(db_session))
    broker = bearer_for(db_session, db_session.get(User, world.person.broker_id))
    other_broker = bearer_for(db_session, build_broker(db_session))
    for headers in (other_staff, stranger, other_broker):
        assert client.get(url, headers=headers).status_code == 404
        assert client.get(f"{url}/claims", headers=headers).status_code == 404
        assert booking["id"] not in {
            b["id"] for b in client.get("/v1/bookings", headers=headers).json["items"]
        }
    assert client.post(f"{url}/accept", headers=other_staff).status_code == 404
    assert client.get(url, headers=broker).status_code == 200
    back_office = bearer_for_back_office(db_session, world.organisation, scopes={"bookings:manage"})
    other_back_office = bearer_for_back_office(db_session, other_org, scopes={"bookings:manage"})
    assert client.post(f"{url}/accept", headers=other_back_office).status_code == 404
    assert client.post(f"{url}/accept", headers=back_office).status_code == 200
    claim = client.post(
        f"{url}/claims", json={"delivered_on": "2026-11-03", "units": 1}, headers=back_office
    ).json
    claim_url = f"/v1/claims/{claim['id']}"
    assert client.get(claim_url, headers=other_staff).status_code == 404
    assert (
        client.post(
            f"{url}/claims", json={"delivered_on": "2026-11-04", "units": 1}, headers=other_staff
        ).status_code
        == 404
    )
    assert client.post(f"{claim_url}/confirm", headers=stranger).status_code == 404
    # The broker sees the claim but only the person or their representative confirms it.
    assert client.get(claim_url, headers=broker).status_code == 200
    assert client.post(f"{claim_url}/confirm", headers=broker).status_code == 403
    representative = bearer_for(db_session, build_representative(db_session, person=world.person))
    assert client.post(f"{claim_url}/confirm", headers=representative).status_code == 200
    # The person cannot act as the provider, and the provider cannot book.
    assert client.post(f"{url}/complete", headers=world.h(world.person_user)).status_code == 403
    assert book(client, world, user=world.staff).status_code == 403


def test_representative_and_broker_book_for_the_person(client, world: World, db_session) -> None:  # type: ignore[no-untyped-def]
    representative = build_representative(db_session, person=world.person)
    assert book(client, world, user=representative, units=1).status_code == 201
    broker = db_session.get(User, world.person.broker_id)
    assert book(client, world, user=broker, units=1).status_code == 201
    other_broker = build_broker(db_session)
    assert book(client, world, user=other_broker, units=1).status_code == 404
    stranger = build_person_user(db_session)
    assert book(client, world, user=stranger, units=1).status_code == 404
    mine = client.get(
        f"/v1/bookings?person_id={world.person.id}", headers=world.h(world.person_user)
    ).json
    assert len(mine["items"]) == 2
    on_line = client.get(
        f"/v1/bookings?plan_line_id={world.line.id}", headers=world.h(world.person_user)
    ).json
    assert len(on_line["items"]) == 2
    elsewhere = client.get("/v1/bookings?plan_line_id=other", headers=world.h(world.person_user))
    assert elsewhere.json["items"] == []


def test_booking_is_idempotent(client, world: World) -> None:  # type: ignore[no-untyped-def]
    headers = {**world.h(world.person_user), "Idempotency-Key": "book-1"}
    first = client.post("/v1/bookings", json=booking_body(world), headers=headers)
    second = client.post("/v1/bookings", json=booking_body(world), headers=headers)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json["id"] == second.json["id"]
    assert world.committed() == 18_000
    other = client.post("/v1/bookings", json=booking_body(world, units=2), headers=headers)
    assert other.status_code == 422


def test_a_retry_the_money_no_longer_covers_is_answered_with_the_first_booking(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    """A retry does the work again before it is answered. Here the first booking took the
    line's room, so the retry's own booking is refused: the stored response answers it."""
    headers = {**world.h(world.person_user), "Idempotency-Key": "book-the-room"}
    body = booking_body(world, units=55)  # 55 x 18.00 of the line's 1,000.00
    first = client.post("/v1/bookings", json=body, headers=headers)
    retry = client.post("/v1/bookings", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201, retry.json
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json == first.json
    assert world.committed() == 99_000
    other = client.post("/v1/bookings", json=booking_body(world, units=56), headers=headers)
    assert other.status_code == 422
    assert other.json["type"] == "/problems/idempotency-key-reused"


def test_confirm_due_claims_command(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    booking = book(client, world).json
    provider = world.h(world.staff)
    client.post(f"/v1/bookings/{booking['id']}/accept", headers=provider)
    client.post(
        f"/v1/bookings/{booking['id']}/claims",
        json={"delivered_on": "2026-11-03", "units": 1},
        headers=provider,
    )
    result = app.test_cli_runner().invoke(args=["confirm-due-claims"])
    assert result.exit_code == 0 and "confirmed 0 claims" in result.output


def test_a_booking_posts_the_releases_fallen_due_before_it_checks_the_money(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    """Monthly releases on a budget with two streams: at the start only a twelfth of each
    stream was released; the booking releases every month begun since, then commits."""
    person_user = build_person_user(world.session, commissioner_id=world.person.commissioner_id)
    person = world.session.get(Person, person_user.person_id)
    budget = build_budget(
        world.session,
        person=person,
        streams=(("other_nhs", 120_000), ("council_social_care", 12_000)),
        release_schedule="monthly",
    )
    plan = build_plan(world.session, budget=budget, status="approved", approved_on=date(2026, 4, 1))
    line = build_line(world.session, plan=plan, quantity=1, planned_total_pence=100_000)
    response = book(client, world, user=person_user, plan_line_id=line.id, units=20)
    assert response.status_code == 201, response.json  # 36,000: more than a twelfth
    today = utcnow().date()
    months_begun = min(12, (today.year - 2026) * 12 + today.month - 4 + 1)
    released = world.session.scalars(
        select(LedgerEntry.amount_pence).where(
            LedgerEntry.budget_id == budget.id,
            LedgerEntry.kind == "release",
            LedgerEntry.account == "available",
        )
    ).all()
    assert sum(released) == (120_000 + 12_000) * months_begun // 12


def test_a_booking_on_a_suspended_budget_is_refused(client, world: World) -> None:  # type: ignore[no-untyped-def]
    budget = world.session.get(Budget, world.line.plan.budget_id)
    assert budget is not None
    budget.status = "suspended"
    world.session.flush()
    response = book(client, world)
    assert response.status_code == 409, response.json
    assert world.committed() == 0


@pytest.mark.parametrize("key", [None, "one-statement"])
def test_a_booking_writes_its_records_together_after_checking_the_money(  # type: ignore[no-untyped-def]
    app, client, world: World, key: str | None
) -> None:
    """The booking, its ledger postings, their audit rows, the providers' notifications
    and the budget's running sums are held to the end (app/db.py `WorkSession.hold_rows`):
    one statement on PostgreSQL, after the last read, with the stored response when the
    request carries an Idempotency-Key. The money is checked against the
    sums read with the budget's lock: no statement sums the ledger."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.lstrip())

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", record)
    headers = world.h(world.person_user) | ({"Idempotency-Key": key} if key else {})
    try:
        response = client.post("/v1/bookings", json=booking_body(world), headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 201, response.json
    # (book() signs the user in first: its token's rows are not the booking's)
    writes = [
        s for s in statements if s.startswith(("INSERT INTO", "WITH")) and "oauth_" not in s[:30]
    ]
    written = [s for s in writes if "INSERT INTO bookings" in s]
    assert len(written) == 1
    last_read = max(i for i, s in enumerate(statements) if s.startswith("SELECT"))
    assert "budgets.ledger_sums" in statements[last_read]
    assert statements.index(written[0]) > last_read
    assert not any("sum(ledger_entries" in s for s in statements)
    for table in ("ledger_entries", "audit_entries", "notifications"):
        assert f"INSERT INTO {table}" in written[0] or not is_postgres()
    assert "UPDATE budgets SET ledger_sums" in written[0] or not is_postgres()
    stored = [s for s in writes if "INSERT INTO idempotency_records" in s]
    assert len(stored) == (1 if key else 0)
    assert not key or stored[0] == written[0] or not is_postgres()
    # SQLite: one INSERT a table
    assert len(writes) == (1 if is_postgres() else 4 + len(stored))
    sums_updates = [s for s in statements if s.startswith("UPDATE budgets SET ledger_sums")]
    assert len(sums_updates) == (0 if is_postgres() else 1)
    assert world.committed() == response.json["total"]["amount"]
