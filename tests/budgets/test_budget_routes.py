"""Budget endpoints through the client: allocation, reading, balances, changes, statements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.db import utcnow
from app.notifications import Notification
from auth.models import Person
from budgets.dates import add_months
from budgets.ledger.models import LedgerEntry
from tests.app.test_errors import assert_problem
from tests.budgets.builders import build_budget
from tests.budgets.conftest import Cast
from tests.builders import bearer_for, build_person_user

URL = "/v1/budgets"


def gbp(pence: int) -> dict[str, Any]:
    return {"amount": pence, "currency": "GBP"}


def allocation(cast: Cast, **overrides: Any) -> dict[str, Any]:
    today = utcnow().date()
    body: dict[str, Any] = {
        "person_id": cast.person.id,
        "period_start": (today - timedelta(days=30)).isoformat(),
        "period_end": (today + timedelta(days=334)).isoformat(),
        "streams": [
            {"kind": "nhs_continuing_healthcare", "amount": gbp(1_200_000)},
            {
                "kind": "council_social_care",
                "amount": gbp(300_000),
                "excluded_categories": ["therapy"],
            },
        ],
        "holding_options": ["direct_payment", "notional"],
    }
    body.update(overrides)
    return body


def allocate(client: FlaskClient, db_session: Session, cast: Cast, **overrides: Any) -> dict:
    response = client.post(
        URL, json=allocation(cast, **overrides), headers=bearer_for(db_session, cast.admin)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_admin_allocates_and_everyone_involved_sees_balances(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    budget = allocate(client, db_session, cast)
    assert budget["status"] == "active"
    assert budget["broker_id"] == cast.broker.id
    assert {s["kind"] for s in budget["streams"]} == {
        "nhs_continuing_healthcare",
        "council_social_care",
    }
    for user in (cast.person_user, cast.representative, cast.broker, cast.admin):
        response = client.get(
            f"{URL}/{budget['id']}/balances", headers=bearer_for(db_session, user)
        )
        assert response.status_code == 200
        overall = response.get_json()["overall"]
        assert overall["allocated"] == gbp(1_500_000)
        assert overall["available"] == gbp(1_500_000)
    listed = client.get(URL, headers=bearer_for(db_session, cast.person_user)).get_json()
    assert [b["id"] for b in listed["items"]] == [budget["id"]]
    notified = db_session.scalars(
        select(Notification.user_id).where(Notification.kind == "budget.allocated")
    ).all()
    assert set(notified) == {cast.person_user.id, cast.representative.id}


def test_reads_are_audited_and_carry_an_etag(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    budget = allocate(client, db_session, cast)
    response = client.get(f"{URL}/{budget['id']}", headers=bearer_for(db_session, cast.person_user))
    assert response.status_code == 200 and response.headers["ETag"]
    actions = set(
        db_session.scalars(
            select(AuditEntry.action).where(AuditEntry.record_id == budget["id"])
        ).all()
    )
    assert {"budget.allocate", "budget.read"} <= actions


def test_other_people_get_404(client: FlaskClient, db_session: Session, cast: Cast) -> None:
    budget = allocate(client, db_session, cast)
    for user in (cast.stranger, cast.other_admin, cast.other_broker):
        headers = bearer_for(db_session, user)
        for path in ("", "/balances", "/changes", "/ledger", "/statements/2026/5"):
            assert_problem(
                client.get(f"{URL}/{budget['id']}{path}", headers=headers), 404, "not-found"
            )
    assert client.get(URL, headers=bearer_for(db_session, cast.stranger)).get_json()["items"] == []
    change = {"kind": "suspension", "reason": "Not yours to change"}
    assert_problem(
        client.post(
            f"{URL}/{budget['id']}/changes",
            json=change,
            headers=bearer_for(db_session, cast.other_admin),
        ),
        404,
        "not-found",
    )
    assert_problem(
        client.post(URL, json=allocation(cast), headers=bearer_for(db_session, cast.other_admin)),
        404,
        "not-found",
    )


def test_allocation_needs_auth_role_and_valid_fields(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    assert_problem(client.post(URL, json=allocation(cast)), 401, "unauthorized")
    assert_problem(
        client.post(URL, json=allocation(cast), headers=bearer_for(db_session, cast.broker)),
        403,
        "insufficient-scope",
    )
    admin = bearer_for(db_session, cast.admin)
    for bad in (
        allocation(cast, surprise=1),
        allocation(cast, streams=[{"kind": "other_nhs", "amount": 5}]),
        allocation(cast, streams=[{"kind": "other_nhs", "amount": gbp(0)}]),
        allocation(cast, streams=[{"kind": "lottery", "amount": gbp(10)}]),
        allocation(cast, holding_options=[]),
        allocation(cast, period_end="2020-01-01"),
        allocation(
            cast,
            streams=[
                {"kind": "other_nhs", "amount": gbp(10)},
                {"kind": "other_nhs", "amount": gbp(10)},
            ],
        ),
        allocation(cast, broker_id=cast.admin.id),
    ):
        assert_problem(client.post(URL, json=bad, headers=admin), 422, "validation-error")


def test_overlapping_budget_is_409_and_idempotent_retry_replays(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    headers = {**bearer_for(db_session, cast.admin), "Idempotency-Key": "alloc-1"}
    first = client.post(URL, json=allocation(cast), headers=headers)
    again = client.post(URL, json=allocation(cast), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post(URL, json=allocation(cast), headers=bearer_for(db_session, cast.admin))
    assert_problem(other, 409, "conflict")


def test_increase_reduction_recovery_and_notice(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    budget = allocate(client, db_session, cast)
    stream_id = budget["streams"][0]["id"]
    admin = bearer_for(db_session, cast.admin)
    changes = f"{URL}/{budget['id']}/changes"
    today = utcnow().date()
    increase = client.post(
        changes,
        json={
            "kind": "increase",
            "funding_stream_id": stream_id,
            "amount": gbp(10_000),
            "reason": "Assessed need went up",
        },
        headers=admin,
    )
    assert increase.status_code == 201 and increase.get_json()["status"] == "applied"
    short = client.post(
        changes,
        json={
            "kind": "reduction",
            "funding_stream_id": stream_id,
            "amount": gbp(5_000),
            "reason": "Plan change",
            "notice_given_on": today.isoformat(),
            "effective_on": (today + timedelta(days=3)).isoformat(),
        },
        headers=admin,
    )
    assert assert_problem(short, 422, "rule-violation")["code"] == "reduction-notice-too-short"
    scheduled = client.post(
        changes,
        json={
            "kind": "reduction",
            "funding_stream_id": stream_id,
            "amount": gbp(5_000),
            "reason": "Plan change",
            "notice_given_on": today.isoformat(),
            "effective_on": (today + timedelta(days=28)).isoformat(),
        },
        headers=admin,
    )
    assert scheduled.get_json()["status"] == "scheduled"
    no_ground = client.post(
        changes,
        json={
            "kind": "recovery",
            "funding_stream_id": stream_id,
            "amount": gbp(1_000),
            "reason": "Unspent",
            "notice_given_on": today.isoformat(),
        },
        headers=admin,
    )
    assert_problem(no_ground, 422, "validation-error")
    recovery = client.post(
        changes,
        json={
            "kind": "recovery",
            "funding_stream_id": stream_id,
            "amount": gbp(1_000),
            "reason": "Money built up unused",
            "reason_code": "large_build_up",
            "notice_given_on": today.isoformat(),
        },
        headers=admin,
    )
    assert recovery.status_code == 201
    overall = client.get(f"{URL}/{budget['id']}/balances", headers=admin).get_json()["overall"]
    assert overall["allocated"] == gbp(1_500_000 + 10_000 - 1_000)
    listed = client.get(changes, headers=bearer_for(db_session, cast.person_user)).get_json()
    assert len(listed["items"]) == 3
    too_much = client.post(
        changes,
        json={
            "kind": "recovery",
            "funding_stream_id": stream_id,
            "amount": gbp(99_000_000),
            "reason": "Everything",
            "reason_code": "death",
            "notice_given_on": today.isoformat(),
        },
        headers=admin,
    )
    assert assert_problem(too_much, 422, "rule-violation")["code"] == "exceeds-uncommitted-funds"


def test_suspend_reinstate_end(client: FlaskClient, db_session: Session, cast: Cast) -> None:
    budget = allocate(client, db_session, cast)
    admin = bearer_for(db_session, cast.admin)
    changes = f"{URL}/{budget['id']}/changes"
    assert (
        client.post(
            changes, json={"kind": "suspension", "reason": "Consent withdrawn"}, headers=admin
        ).status_code
        == 201
    )
    again = client.post(changes, json={"kind": "suspension", "reason": "Again"}, headers=admin)
    assert_problem(again, 409, "invalid-state")
    assert (
        client.post(
            changes, json={"kind": "reinstatement", "reason": "Consent given"}, headers=admin
        ).status_code
        == 201
    )
    assert (
        client.post(
            changes, json={"kind": "ending", "reason": "Moved area"}, headers=admin
        ).status_code
        == 201
    )
    read = client.get(f"{URL}/{budget['id']}", headers=admin).get_json()
    assert read["status"] == "ended" and read["status_reason"] == "Moved area"
    person = bearer_for(db_session, cast.person_user)
    assert_problem(
        client.post(changes, json={"kind": "suspension", "reason": "x" * 5}, headers=person),
        403,
        "insufficient-scope",
    )
    assert_problem(
        client.post(changes, json={"kind": "nap", "reason": "zzz"}, headers=admin),
        422,
        "validation-error",
    )


def test_ledger_and_statement(client: FlaskClient, db_session: Session, cast: Cast) -> None:
    budget = allocate(client, db_session, cast)
    person = bearer_for(db_session, cast.person_user)
    entries = client.get(f"{URL}/{budget['id']}/ledger?limit=100", headers=person).get_json()
    assert sum(e["amount"]["amount"] for e in entries["items"]) == 0
    today = utcnow().date()
    path = f"{URL}/{budget['id']}/statements/{today.year}/{today.month}"
    statement = client.get(path, headers=person).get_json()
    assert statement["opening"]["available"] == gbp(0)
    assert statement["closing"]["available"] == gbp(1_500_000)
    assert {line["kind"] for line in statement["lines"]} == {"allocation", "release"}
    # Everything so far opens next month's statement; nothing had happened a month ago.
    this_month = today.replace(day=1)
    for month, opening in ((add_months(this_month, 1), 1_500_000), (add_months(this_month, -1), 0)):
        other = client.get(
            f"{URL}/{budget['id']}/statements/{month.year}/{month.month}", headers=person
        ).get_json()
        assert other["opening"]["available"] == other["closing"]["available"] == gbp(opening)
        assert other["lines"] == []
    csv = client.get(f"{path}?format=csv", headers=person)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[0].startswith("date,kind,amount_pence")
    assert_problem(
        client.get(f"{URL}/{budget['id']}/statements/2026/13", headers=person),
        422,
        "validation-error",
    )
    assert_problem(client.get(f"{path}?format=pdf", headers=person), 422, "validation-error")


def test_update_budget_needs_current_etag(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    budget = allocate(client, db_session, cast)
    admin = bearer_for(db_session, cast.admin)
    path = f"{URL}/{budget['id']}"
    etag = client.get(path, headers=admin).headers["ETag"]
    assert_problem(
        client.patch(path, json={"holding_options": ["notional"]}, headers=admin),
        428,
        "precondition-required",
    )
    changed = client.patch(
        path,
        json={"broker_id": cast.other_broker.id, "holding_options": ["third_party"]},
        headers={**admin, "If-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.get_json()["broker_id"] == cast.other_broker.id
    stale = client.patch(
        path, json={"release_schedule": "monthly"}, headers={**admin, "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition-failed")
    new_etag = changed.headers["ETag"]
    assert_problem(
        client.patch(
            path, json={"broker_id": cast.person_user.id}, headers={**admin, "If-Match": new_etag}
        ),
        422,
        "validation-error",
    )
    # The new broker now has the person on their caseload; the old one no longer does.
    assert client.get(path, headers=bearer_for(db_session, cast.other_broker)).status_code == 200
    assert_problem(client.get(path, headers=bearer_for(db_session, cast.broker)), 404, "not-found")
    assert_problem(
        client.patch(
            path,
            json={"release_schedule": "monthly"},
            headers={**bearer_for(db_session, cast.other_admin), "If-Match": new_etag},
        ),
        404,
        "not-found",
    )


def test_reading_balances_posts_a_release_that_has_fallen_due(
    client: FlaskClient, db_session: Session
) -> None:
    """The read checks the release schedule from plain rows; a due release is posted
    through the ORM under the budget's lock, once."""
    user = build_person_user(db_session)
    person = db_session.get(Person, user.person_id)
    started = utcnow().date() - timedelta(days=40)
    budget = build_budget(
        db_session,
        person=person,
        streams=(("other_nhs", 120_000),),
        release_schedule="monthly",
        period_start=started,
        period_end=add_months(started, 12) - timedelta(days=1),
        today=started,  # only the first month was released at allocation
    )
    path = f"{URL}/{budget.id}/balances"
    reads = [client.get(path, headers=bearer_for(db_session, user)) for _ in range(2)]
    assert [r.get_json()["overall"]["released"] for r in reads] == [gbp(20_000), gbp(20_000)]
    releases = db_session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.budget_id == budget.id,
            LedgerEntry.kind == "release",
            LedgerEntry.account == "available",
        )
    ).all()
    assert sorted(entry.amount_pence for entry in releases) == [10_000, 10_000]
