"""The broker's caseload lists: awaiting decision, reviews due, spending alerts."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.db import utcnow
from auth.actor import Actor
from budgets.ledger import service as ledger
from tests.app.test_errors import assert_problem
from tests.budgets.builders import build_budget, build_line, build_plan
from tests.budgets.conftest import Cast
from tests.builders import bearer_for

URL = "/v1/caseload"


def test_plans_awaiting_decision_oldest_first(
    client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    budget = build_budget(db_session, person=cast.person)
    now = utcnow()
    old = build_plan(
        db_session, budget=budget, status="submitted", submitted_at=now - timedelta(days=9)
    )
    newer_budget = build_budget(
        db_session,
        person=cast.person,
        period_start=budget.period_end + timedelta(days=1),
        period_end=budget.period_end + timedelta(days=365),
    )
    newer = build_plan(db_session, budget=newer_budget, status="submitted", submitted_at=now)
    build_plan(db_session, budget=build_budget(db_session), status="submitted", submitted_at=now)
    db_session.flush()
    response = client.get(
        f"{URL}/plans-awaiting-decision", headers=bearer_for(db_session, cast.broker)
    )
    items = response.get_json()["items"]
    assert [i["plan_id"] for i in items] == [old.id, newer.id]
    assert items[0]["waiting_days"] == 9
    other = client.get(
        f"{URL}/plans-awaiting-decision", headers=bearer_for(db_session, cast.other_broker)
    )
    assert other.get_json()["items"] == []


def test_reviews_due_and_overdue(client: FlaskClient, db_session: Session, cast: Cast) -> None:
    budget = build_budget(db_session, person=cast.person)
    today = utcnow().date()
    plan = build_plan(
        db_session,
        budget=budget,
        status="approved",
        approved_on=today - timedelta(days=100),
        nhs_review_due_on=today - timedelta(days=5),
    )
    headers = bearer_for(db_session, cast.broker)
    items = client.get(f"{URL}/reviews-due", headers=headers).get_json()["items"]
    assert [(i["plan_id"], i["overdue"]) for i in items] == [(plan.id, True)]
    plan.nhs_review_due_on = today + timedelta(days=60)
    db_session.flush()
    assert client.get(f"{URL}/reviews-due", headers=headers).get_json()["items"] == []
    later = client.get(f"{URL}/reviews-due?within_days=90", headers=headers).get_json()["items"]
    assert later[0]["overdue"] is False
    assert_problem(
        client.get(f"{URL}/reviews-due?within_days=-1", headers=headers), 422, "validation-error"
    )


def test_spending_alerts(client: FlaskClient, db_session: Session, cast: Cast) -> None:
    today = utcnow().date()
    budget = build_budget(
        db_session,
        person=cast.person,
        streams=(("other_nhs", 100_000),),
        period_start=today - timedelta(days=180),
        period_end=today + timedelta(days=184),
    )
    plan = build_plan(db_session, budget=budget, status="approved")
    line = build_line(
        db_session,
        plan=plan,
        unit_cost_pence=95_000,
        quantity=1,
        start_date=budget.period_start,
        end_date=budget.period_end,
    )
    headers = bearer_for(db_session, cast.broker)
    items = client.get(f"{URL}/spending-alerts", headers=headers).get_json()["items"]
    assert [a["code"] for a in items[0]["alerts"]] == ["heavily-underspent"]
    ledger.commit_funds(
        db_session,
        plan_line_id=line.id,
        amount_pence=95_000,
        cause_type="booking",
        cause_id="b",
        actor=Actor(user_id=None, client_id="t"),
    )
    db_session.commit()  # as a use case does
    items = client.get(f"{URL}/spending-alerts", headers=headers).get_json()["items"]
    assert "running-low" in [a["code"] for a in items[0]["alerts"]]


def test_only_brokers(client: FlaskClient, db_session: Session, cast: Cast) -> None:
    for path in ("plans-awaiting-decision", "reviews-due", "spending-alerts"):
        assert_problem(client.get(f"{URL}/{path}"), 401, "unauthorized")
        assert_problem(
            client.get(f"{URL}/{path}", headers=bearer_for(db_session, cast.person_user)),
            403,
            "insufficient-scope",
        )
