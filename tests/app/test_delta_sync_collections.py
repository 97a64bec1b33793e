"""Delta sync on the person's main collections, through the client: a first sync returns
the records and `synced_at`; a change made after it comes back with `updated_since`
(records left untouched do not); another person's records never appear."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.notifications import Notification, notify
from app.sync import Tombstone
from auth.models import Person, User
from budgets.bookings.models import Booking, Claim
from budgets.funding.models import Budget
from budgets.plans.models import CarePlan
from employment.models import Referral
from tests.budgets.booking_builders import build_booking, build_claim
from tests.budgets.builders import build_approved_line, build_budget, build_line, build_plan
from tests.builders import bearer_for, build_person_user
from tests.employment.builders import build_referral, build_service


def _person(session: Session) -> tuple[User, Person]:
    user = build_person_user(session)
    person = session.get(Person, user.person_id)
    assert person is not None
    return user, person


def _backdate(session: Session, records: Sequence[Any]) -> None:
    """Make the records look an hour old, so only later changes count as new."""
    for record in records:
        record.updated_at = utcnow() - timedelta(hours=1)
    session.flush()


def check_delta_sync(
    client: FlaskClient,
    session: Session,
    *,
    url: str,
    headers: dict[str, str],
    mine: Sequence[Any],
    theirs: Sequence[Any],
    change: Callable[[Any], None],
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Full sync, then a change to mine[0] and to theirs[0], then a delta sync."""
    _backdate(session, [*mine, *theirs])
    full = client.get(url, headers=headers, query_string=query or {})
    assert full.status_code == 200, full.json
    body = full.get_json()
    ids = {item["id"] for item in body["items"]}
    assert {r.id for r in mine} <= ids
    assert not ids & {r.id for r in theirs}
    assert body["deleted"] == []
    assert body["synced_at"]
    change(mine[0])
    change(theirs[0])
    session.flush()
    delta = client.get(
        url, headers=headers, query_string={**(query or {}), "updated_since": body["synced_at"]}
    )
    assert delta.status_code == 200, delta.json
    delta_body = delta.get_json()
    assert [item["id"] for item in delta_body["items"]] == [mine[0].id]
    return delta_body


def test_bookings_delta_sync(client: FlaskClient, db_session: Session) -> None:
    user, person = _person(db_session)
    _, other = _person(db_session)
    line = build_approved_line(
        db_session, person=person, line_pence=2000, planned_total_pence=100_000
    )
    other_line = build_approved_line(
        db_session, person=other, line_pence=2000, planned_total_pence=100_000
    )
    mine = [build_booking(db_session, line=line, units=1) for _ in range(2)]
    theirs = [build_booking(db_session, line=other_line, units=1)]

    def change(booking: Booking) -> None:
        booking.schedule = "Mondays"

    check_delta_sync(
        client,
        db_session,
        url="/v1/bookings",
        headers=bearer_for(db_session, user),
        mine=mine,
        theirs=theirs,
        change=change,
    )


def test_claims_delta_sync(client: FlaskClient, db_session: Session) -> None:
    user, person = _person(db_session)
    _, other = _person(db_session)
    line = build_approved_line(
        db_session, person=person, line_pence=2000, planned_total_pence=100_000
    )
    other_line = build_approved_line(
        db_session, person=other, line_pence=2000, planned_total_pence=100_000
    )
    booking = build_booking(db_session, line=line, units=3)
    mine = [
        build_claim(
            db_session, booking=booking, delivered_on=booking.start_date + timedelta(days=d)
        )
        for d in range(2)
    ]
    theirs = [build_claim(db_session, booking=build_booking(db_session, line=other_line, units=1))]

    def change(claim: Claim) -> None:
        claim.note = "Changed"

    check_delta_sync(
        client,
        db_session,
        url="/v1/claims",
        headers=bearer_for(db_session, user),
        mine=mine,
        theirs=theirs,
        change=change,
    )


def test_a_full_sync_keeps_the_lists_order_across_pages(
    client: FlaskClient, db_session: Session
) -> None:
    user, person = _person(db_session)
    line = build_approved_line(
        db_session, person=person, line_pence=2000, planned_total_pence=100_000
    )
    bookings = [build_booking(db_session, line=line, units=1) for _ in range(3)]
    headers = bearer_for(db_session, user)
    seen, synced_at, cursor = [], set(), None
    while True:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        body = client.get("/v1/bookings", headers=headers, query_string=query).get_json()
        seen += [item["id"] for item in body["items"]]
        synced_at.add(body["synced_at"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((b.id for b in bookings), reverse=True)
    assert len(synced_at) == 1


def test_notifications_delta_sync(client: FlaskClient, db_session: Session) -> None:
    user, _ = _person(db_session)
    other, _ = _person(db_session)
    mine = notify(db_session, user_ids=[user.id], kind="plan_decided", title="One")
    mine += notify(db_session, user_ids=[user.id], kind="plan_decided", title="Two")
    theirs = notify(db_session, user_ids=[other.id], kind="plan_decided", title="Theirs")
    headers = bearer_for(db_session, user)

    def change(notification: Notification) -> None:
        notification.read_at = utcnow()

    check_delta_sync(
        client,
        db_session,
        url="/v1/notifications",
        headers=headers,
        mine=mine,
        theirs=theirs,
        change=change,
    )
    # Marking all read through the API is a change too.
    since = client.get("/v1/notifications", headers=headers).get_json()["synced_at"]
    _backdate(db_session, mine)
    assert client.post("/v1/notifications/read-all", headers=headers).get_json() == {"updated": 1}
    delta = client.get("/v1/notifications", headers=headers, query_string={"updated_since": since})
    assert [n["id"] for n in delta.get_json()["items"]] == [mine[1].id]


def test_budgets_delta_sync(client: FlaskClient, db_session: Session) -> None:
    user, person = _person(db_session)
    _, other = _person(db_session)
    mine = [build_budget(db_session, person=person) for _ in range(2)]
    theirs = [build_budget(db_session, person=other)]

    def change(budget: Budget) -> None:
        budget.status_reason = "Reviewed"

    check_delta_sync(
        client,
        db_session,
        url="/v1/budgets",
        headers=bearer_for(db_session, user),
        mine=mine,
        theirs=theirs,
        change=change,
    )


def test_plans_delta_sync_and_a_deleted_line(client: FlaskClient, db_session: Session) -> None:
    user, person = _person(db_session)
    _, other = _person(db_session)
    budget = build_budget(db_session, person=person)
    other_budget = build_budget(db_session, person=other)
    old = build_plan(db_session, budget=budget, status="superseded", version_number=1)
    draft = build_plan(db_session, budget=budget, version_number=2, previous_version_id=old.id)
    line = build_line(db_session, plan=draft)
    theirs = [build_plan(db_session, budget=other_budget)]
    headers = bearer_for(db_session, user)
    url = f"/v1/budgets/{budget.id}/plans"

    def change(plan: CarePlan) -> None:
        plan.risks = "Changed"

    check_delta_sync(
        client,
        db_session,
        url=url,
        headers=headers,
        mine=[old, draft],
        theirs=theirs,
        change=change,
    )
    full = client.get(url, headers=headers).get_json()
    assert [p["id"] for p in full["items"]] == [draft.id, old.id]  # newest first
    _backdate(db_session, [old, draft])
    removed = client.delete(
        f"/v1/plans/{draft.id}/lines/{line.id}", headers={**headers, "If-Match": "*"}
    )
    assert removed.status_code == 200, removed.json
    delta = client.get(url, headers=headers, query_string={"updated_since": full["synced_at"]})
    assert [p["id"] for p in delta.get_json()["items"]] == [draft.id]
    assert delta.get_json()["items"][0]["lines"] == []
    tombstone = db_session.scalar(select(Tombstone).where(Tombstone.record_id == line.id))
    assert tombstone is not None and tombstone.owner_id == person.id
    assert client.get(f"/v1/budgets/{other_budget.id}/plans", headers=headers).status_code == 404


def test_referrals_delta_sync(client: FlaskClient, db_session: Session) -> None:
    user, person = _person(db_session)
    _, other = _person(db_session)
    ips = build_service(db_session)
    mine = [build_referral(db_session, service=ips, person_id=person.id)]
    mine.append(build_referral(db_session, service=build_service(db_session), person_id=person.id))
    theirs = [build_referral(db_session, service=ips, person_id=other.id)]

    def change(referral: Referral) -> None:
        referral.referrer_team = "Changed"

    check_delta_sync(
        client,
        db_session,
        url="/v1/employment/referrals",
        headers=bearer_for(db_session, user),
        mine=mine,
        theirs=theirs,
        change=change,
    )
