"""Care and support plans through the client: writing, rules, the decision workflow,
versions, reconsideration, reviews, concurrency (If-Match) and access."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.notifications import Notification
from budgets.funding.models import Budget
from budgets.plans.models import PlanOutcome
from tests.app.test_errors import assert_problem
from tests.budgets.builders import build_budget
from tests.budgets.conftest import Cast
from tests.builders import bearer_for


def gbp(pence: int) -> dict[str, Any]:
    return {"amount": pence, "currency": "GBP"}


@pytest.fixture
def budget(db_session: Session, cast: Cast) -> Budget:
    budget = build_budget(
        db_session,
        person=cast.person,
        streams=(("nhs_continuing_healthcare", 500_000), ("council_social_care", 100_000)),
    )
    budget.streams[1].excluded_categories = ["therapy"]
    db_session.flush()
    return budget


def line_body(budget: Budget, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "personal_assistant",
        "description": "A personal assistant so I can go swimming",
        "outcome_positions": [1],
        "unit": "hour",
        "unit_cost": gbp(1_500),
        "quantity": 4,
        "frequency": "weekly",
        "start_date": "2026-04-01",
        "end_date": "2026-06-30",
        "funding_stream_id": budget.streams[0].id,
    }
    body.update(overrides)
    return body


class Flow:
    """A client speaking as different users, tracking the plan's latest ETag."""

    def __init__(self, client: FlaskClient, session: Session, cast: Cast) -> None:
        self.client = client
        self.person = bearer_for(session, cast.person_user)
        self.broker = bearer_for(session, cast.broker)
        self.etag = ""

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = self.client.open(
            path, method=method, headers={**headers, "If-Match": self.etag}, **kwargs
        )
        if response.status_code < 300 and "ETag" in response.headers:
            self.etag = response.headers["ETag"]
        return response

    def draft(self, budget: Budget) -> dict[str, Any]:
        response = self.call(
            "POST",
            f"/v1/budgets/{budget.id}/plans",
            self.person,
            json={
                "outcomes": ["I want to swim again", "I want to see my friends"],
                "risks": "If my PA is ill, my sister steps in.",
                "review_arrangements": "Every three months with my broker.",
            },
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def add_line(self, plan_id: str, budget: Budget, **overrides: Any) -> Any:
        return self.call(
            "POST", f"/v1/plans/{plan_id}/lines", self.person, json=line_body(budget, **overrides)
        )


@pytest.fixture
def flow(client: FlaskClient, db_session: Session, cast: Cast) -> Flow:
    return Flow(client, db_session, cast)


def test_write_submit_approve_and_balances_per_line(
    flow: Flow, budget: Budget, db_session: Session, cast: Cast
) -> None:
    plan = flow.draft(budget)
    assert plan["status"] == "draft" and plan["version_number"] == 1
    assert plan["outcomes"][0]["text"] == "I want to swim again"
    added = flow.add_line(plan["id"], budget)
    assert added.status_code == 201
    line = added.get_json()["lines"][0]
    assert line["planned_total"] == gbp(1_500 * 4 * 13)
    submitted = flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "submitted"
    approved = flow.call("POST", f"/v1/plans/{plan['id']}/approve", flow.broker, json={})
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "approved"
    assert body["nhs_review_due_on"] and body["council_review_due_on"]
    balances = flow.client.get(f"/v1/budgets/{budget.id}/balances", headers=flow.person)
    lines = balances.get_json()["lines"]
    assert lines[0]["plan_line_id"] == line["id"]
    assert lines[0]["available"] == gbp(1_500 * 4 * 13)
    draft = flow.call("POST", f"/v1/plans/{plan['id']}/revisions", flow.person).get_json()
    of_draft = flow.client.get(
        f"/v1/budgets/{budget.id}/balances?plan_id={draft['id']}", headers=flow.person
    ).get_json()["lines"]
    assert [row["plan_line_id"] for row in of_draft] == [draft["lines"][0]["id"]]
    assert_problem(
        flow.client.get(f"/v1/budgets/{budget.id}/balances?plan_id=nope", headers=flow.person),
        404,
        "not-found",
    )
    kinds = db_session.scalars(
        select(Notification.kind).where(Notification.record_id == plan["id"])
    ).all()
    assert {"care_plan.submitted", "care_plan.approved"} <= set(kinds)
    decisions = flow.client.get(f"/v1/plans/{plan['id']}/decisions", headers=flow.person)
    assert [d["kind"] for d in decisions.get_json()["items"]] == ["submitted", "approved"]


def test_the_plan_read_shows_exactly_what_the_writes_answered(flow: Flow, budget: Budget) -> None:
    """The read is built from plain rows; every write answers from the ORM objects."""
    empty = flow.call("POST", f"/v1/budgets/{budget.id}/plans", flow.person, json={})
    assert empty.status_code == 201, empty.get_json()
    plan_path = f"/v1/plans/{empty.get_json()['id']}"
    read_empty = flow.client.get(plan_path, headers=flow.person)
    assert read_empty.get_json() == empty.get_json()
    assert read_empty.get_json()["outcomes"] == [] and read_empty.get_json()["total"] == gbp(0)

    outcomes = ["I want to swim again", "I want to see my friends"]
    assert (
        flow.call("PATCH", plan_path, flow.person, json={"outcomes": outcomes}).status_code == 200
    )
    flow.add_line(empty.get_json()["id"], budget)
    written = flow.add_line(
        empty.get_json()["id"], budget, description="Swimming lessons", quantity=1
    )
    read = flow.client.get(plan_path, headers=flow.person)
    assert read.get_json() == written.get_json()
    assert read.headers["ETag"] == written.headers["ETag"]
    assert [o["text"] for o in read.get_json()["outcomes"]] == outcomes
    assert read.get_json()["total"] == gbp(1_500 * 4 * 13 + 1_500 * 13)


def test_the_plan_read_lists_outcomes_by_position_and_lines_in_order(
    flow: Flow, budget: Budget, db_session: Session
) -> None:
    created = flow.call("POST", f"/v1/budgets/{budget.id}/plans", flow.person, json={})
    plan_id = created.get_json()["id"]
    for position in (3, 1, 2):  # stored out of order
        db_session.add(PlanOutcome(plan_id=plan_id, position=position, text=f"Outcome {position}"))
    db_session.flush()
    written = [flow.add_line(plan_id, budget, quantity=n).get_json() for n in (1, 2, 3)][-1]
    read = flow.client.get(f"/v1/plans/{plan_id}", headers=flow.person).get_json()
    assert [o["position"] for o in read["outcomes"]] == [1, 2, 3]
    assert [o["text"] for o in read["outcomes"]] == ["Outcome 1", "Outcome 2", "Outcome 3"]
    assert [line["id"] for line in read["lines"]] == [line["id"] for line in written["lines"]]
    assert len(read["lines"]) == 3


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"description": "Wine for the weekend"}, "never-allowed-item"),
        ({"description": "Pay off my credit card debt"}, "never-allowed-item"),
        ({"description": "Private GP appointment"}, "never-allowed-item"),
        ({"category": "therapy", "stream": 1}, "category-not-payable-from-stream"),
        ({"end_date": "2027-06-30"}, "line-outside-budget-period"),
        ({"unit_cost": gbp(700_000), "frequency": "once", "quantity": 1}, "plan-exceeds-budget"),
        (
            {"unit_cost": gbp(150_000), "frequency": "once", "quantity": 1, "stream": 1},
            "plan-exceeds-funding-stream",
        ),
    ],
)
def test_line_rules_refuse_with_reason_codes(
    flow: Flow, budget: Budget, overrides: dict[str, Any], code: str
) -> None:
    plan = flow.draft(budget)
    stream = overrides.pop("stream", 0)
    response = flow.add_line(
        plan["id"], budget, funding_stream_id=budget.streams[stream].id, **overrides
    )
    problem = assert_problem(response, 422, "rule-violation")
    assert problem["code"] == code
    assert problem["detail"] and problem["findings"][0]["code"] == code


def test_submission_checks_completeness_and_household_agreement(
    flow: Flow, budget: Budget, db_session: Session, cast: Cast
) -> None:
    plan = flow.draft(budget)
    empty = flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    assert assert_problem(empty, 422, "rule-violation")["code"] == "plan-has-no-lines"
    added = flow.add_line(plan["id"], budget, pays_household_family_member=True)
    line_id = added.get_json()["lines"][0]["id"]
    check = flow.client.post(f"/v1/plans/{plan['id']}/check", headers=flow.person).get_json()
    assert not check["ok"]
    assert check["findings"][0]["code"] == "household-family-payment-needs-agreement"
    refused = flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    assert assert_problem(refused, 422, "rule-violation")["code"] == (
        "household-family-payment-needs-agreement"
    )
    admin = bearer_for(db_session, cast.admin)
    agreed = flow.call("POST", f"/v1/plans/{plan['id']}/lines/{line_id}/household-agreement", admin)
    assert agreed.status_code == 200
    assert flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person).status_code == 200


def test_stale_or_missing_if_match_is_refused(
    flow: Flow, budget: Budget, client: FlaskClient
) -> None:
    plan = flow.draft(budget)
    first_etag = flow.etag
    flow.add_line(plan["id"], budget)
    line_id = flow.call("GET", f"/v1/plans/{plan['id']}", flow.person).get_json()["lines"][0]["id"]
    stale = client.patch(
        f"/v1/plans/{plan['id']}",
        json={"risks": "Other device"},
        headers={**flow.person, "If-Match": first_etag},
    )
    assert_problem(stale, 412, "precondition-failed")
    missing = client.patch(
        f"/v1/plans/{plan['id']}/lines/{line_id}", json={"quantity": 2}, headers=flow.person
    )
    assert_problem(missing, 428, "precondition-required")
    fresh = flow.call(
        "PATCH", f"/v1/plans/{plan['id']}/lines/{line_id}", flow.person, json={"quantity": 2}
    )
    assert fresh.status_code == 200
    assert fresh.get_json()["lines"][0]["planned_total"] == gbp(1_500 * 2 * 13)
    bad = flow.call(
        "PATCH", f"/v1/plans/{plan['id']}/lines/{line_id}", flow.person, json={"quantity": "x"}
    )
    assert_problem(bad, 422, "validation-error")
    unknown = flow.call("PATCH", f"/v1/plans/{plan['id']}", flow.person, json={"colour": "red"})
    assert_problem(unknown, 422, "validation-error")
    deleted = flow.call("DELETE", f"/v1/plans/{plan['id']}/lines/{line_id}", flow.person)
    assert deleted.status_code == 200 and deleted.get_json()["lines"] == []


def test_changes_requested_then_revision_then_approval_supersedes(
    flow: Flow, budget: Budget
) -> None:
    plan = flow.draft(budget)
    line_id = flow.add_line(plan["id"], budget).get_json()["lines"][0]["id"]
    flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    no_reason = flow.call("POST", f"/v1/plans/{plan['id']}/request-changes", flow.broker, json={})
    assert_problem(no_reason, 422, "validation-error")
    returned = flow.call(
        "POST",
        f"/v1/plans/{plan['id']}/request-changes",
        flow.broker,
        json={"reason": "Say more about the hours", "line_comments": {line_id: "Which days?"}},
    )
    assert returned.get_json()["status"] == "changes_requested"
    assert returned.get_json()["lines"][0]["review_comment"] == "Which days?"
    immutable = flow.call("PATCH", f"/v1/plans/{plan['id']}", flow.person, json={"risks": "x"})
    assert_problem(immutable, 409, "invalid-state")
    revision = flow.call("POST", f"/v1/plans/{plan['id']}/revisions", flow.person)
    assert revision.status_code == 201
    v2 = revision.get_json()
    assert v2["version_number"] == 2 and v2["previous_version_id"] == plan["id"]
    assert len(v2["lines"]) == 1 and v2["lines"][0]["lineage_id"] != ""
    flow.call("POST", f"/v1/plans/{v2['id']}/submit", flow.person)
    assert (
        flow.call("POST", f"/v1/plans/{v2['id']}/approve", flow.broker, json={}).status_code == 200
    )
    v3 = flow.call("POST", f"/v1/plans/{v2['id']}/revisions", flow.person).get_json()
    flow.call("POST", f"/v1/plans/{v3['id']}/submit", flow.person)
    flow.call("POST", f"/v1/plans/{v3['id']}/approve", flow.broker, json={})
    versions = flow.client.get(f"/v1/budgets/{budget.id}/plans", headers=flow.person).get_json()
    assert [(p["version_number"], p["status"]) for p in versions["items"]] == [
        (3, "approved"),
        (2, "superseded"),
        (1, "changes_requested"),
    ]


def test_decline_reconsideration_and_reasoned_answer(flow: Flow, budget: Budget) -> None:
    plan = flow.draft(budget)
    flow.add_line(plan["id"], budget)
    flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    flow.call("POST", f"/v1/plans/{plan['id']}/decline", flow.broker, json={"reason": "Too vague"})
    asked = flow.call(
        "POST",
        f"/v1/plans/{plan['id']}/reconsideration",
        flow.person,
        json={"reason": "I explained at our meeting"},
    )
    assert asked.get_json()["status"] == "reconsideration_requested"
    no_reason = flow.call(
        "POST",
        f"/v1/plans/{plan['id']}/reconsideration-answer",
        flow.broker,
        json={"decision": "uphold"},
    )
    assert_problem(no_reason, 422, "validation-error")
    upheld = flow.call(
        "POST",
        f"/v1/plans/{plan['id']}/reconsideration-answer",
        flow.broker,
        json={"decision": "uphold", "reason": "Still no detail on hours"},
    )
    assert upheld.get_json()["status"] == "declined"
    flow.call(
        "POST",
        f"/v1/plans/{plan['id']}/reconsideration",
        flow.person,
        json={"reason": "Please look again"},
    )
    approved = flow.call(
        "POST",
        f"/v1/plans/{plan['id']}/reconsideration-answer",
        flow.broker,
        json={"decision": "approve", "reason": "Hours now agreed by phone"},
    )
    assert approved.get_json()["status"] == "approved"
    history = flow.client.get(f"/v1/plans/{plan['id']}/decisions", headers=flow.person).get_json()
    assert [d["kind"] for d in history["items"]] == [
        "submitted",
        "declined",
        "reconsideration_requested",
        "reconsideration_upheld",
        "reconsideration_requested",
        "reconsideration_approved",
    ]
    assert all(d["reason"] for d in history["items"][1:])


def test_access_roles_and_404_for_others(
    flow: Flow, budget: Budget, client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    plan = flow.draft(budget)
    flow.add_line(plan["id"], budget)
    flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    for user in (cast.stranger, cast.other_admin, cast.other_broker):
        headers = {**bearer_for(db_session, user), "If-Match": flow.etag}
        assert_problem(client.get(f"/v1/plans/{plan['id']}", headers=headers), 404, "not-found")
        assert_problem(
            client.get(f"/v1/budgets/{budget.id}/plans", headers=headers), 404, "not-found"
        )
    other_broker = {**bearer_for(db_session, cast.other_broker), "If-Match": flow.etag}
    assert_problem(
        client.post(f"/v1/plans/{plan['id']}/approve", json={}, headers=other_broker),
        404,
        "not-found",
    )
    stranger = bearer_for(db_session, cast.stranger)
    assert_problem(
        client.post(f"/v1/budgets/{budget.id}/plans", json={}, headers=stranger), 404, "not-found"
    )
    assert_problem(
        client.post(
            f"/v1/plans/{plan['id']}/approve",
            json={},
            headers={**flow.person, "If-Match": flow.etag},
        ),
        403,
        "insufficient-scope",
    )
    assert_problem(client.get(f"/v1/plans/{plan['id']}"), 401, "unauthorized")
    representative = bearer_for(db_session, cast.representative)
    assert client.get(f"/v1/plans/{plan['id']}", headers=representative).status_code == 200
    again = flow.call("POST", f"/v1/budgets/{budget.id}/plans", flow.person, json={})
    assert_problem(again, 409, "conflict")


def test_others_cannot_touch_lines_and_bad_stream_is_422(
    flow: Flow, budget: Budget, client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    plan = flow.draft(budget)
    line_id = flow.add_line(plan["id"], budget).get_json()["lines"][0]["id"]
    stranger = {**bearer_for(db_session, cast.stranger), "If-Match": flow.etag}
    path = f"/v1/plans/{plan['id']}/lines/{line_id}"
    assert_problem(client.patch(path, json={"quantity": 1}, headers=stranger), 404, "not-found")
    assert_problem(client.delete(path, headers=stranger), 404, "not-found")
    assert_problem(
        client.post(f"/v1/plans/{plan['id']}/lines", json=line_body(budget), headers=stranger),
        404,
        "not-found",
    )
    assert_problem(
        client.post(f"/v1/plans/{plan['id']}/submit", headers=stranger), 404, "not-found"
    )
    assert_problem(
        flow.call("PATCH", f"/v1/plans/{plan['id']}/lines/nope", flow.person, json={"quantity": 1}),
        404,
        "not-found",
    )
    bad_stream = flow.call("PATCH", path, flow.person, json={"funding_stream_id": "nope"})
    assert_problem(bad_stream, 422, "validation-error")
    backwards = flow.call("PATCH", path, flow.person, json={"end_date": "2026-03-01"})
    assert_problem(backwards, 422, "validation-error")
    unknown = flow.add_line(plan["id"], budget, funding_stream_id="nope")
    assert assert_problem(unknown, 422, "rule-violation")["code"] == "unknown-funding-stream"


def test_creating_posts_are_idempotent_and_reads_audited(
    flow: Flow, budget: Budget, client: FlaskClient, db_session: Session
) -> None:
    plan = flow.draft(budget)
    headers = {**flow.person, "Idempotency-Key": "line-1"}
    first = client.post(f"/v1/plans/{plan['id']}/lines", json=line_body(budget), headers=headers)
    again = client.post(f"/v1/plans/{plan['id']}/lines", json=line_body(budget), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get(f"/v1/plans/{plan['id']}", headers=flow.person).get_json()["lines"]) == 1
    actions = set(
        db_session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == plan["id"]))
    )
    assert {"care_plan.create", "care_plan.line.add", "care_plan.read"} <= actions


def test_approval_rechecks_rules_and_needs_the_persons_broker(
    flow: Flow, budget: Budget, client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    plan = flow.draft(budget)
    flow.add_line(plan["id"], budget, unit_cost=gbp(490_000), frequency="once", quantity=1)
    flow.call("POST", f"/v1/plans/{plan['id']}/submit", flow.person)
    admin = bearer_for(db_session, cast.admin)
    reduced = client.post(
        f"/v1/budgets/{budget.id}/changes",
        json={
            "kind": "recovery",
            "funding_stream_id": budget.streams[0].id,
            "amount": gbp(100_000),
            "reason": "Money recovered",
            "reason_code": "plan_change",
            "notice_given_on": "2026-11-01",
        },
        headers=admin,
    )
    assert reduced.status_code == 201
    refused = flow.call("POST", f"/v1/plans/{plan['id']}/approve", flow.broker, json={})
    assert assert_problem(refused, 422, "rule-violation")["code"] == "plan-exceeds-funding-stream"
    admin_try = client.post(
        f"/v1/plans/{plan['id']}/approve", json={}, headers={**admin, "If-Match": flow.etag}
    )
    assert_problem(admin_try, 403, "insufficient-scope")


def test_no_new_plan_on_a_suspended_budget(flow: Flow, budget: Budget, db_session: Session) -> None:
    budget.status = "suspended"
    db_session.flush()
    response = flow.call("POST", f"/v1/budgets/{budget.id}/plans", flow.person, json={})
    assert_problem(response, 409, "invalid-state")


def test_can_buy_answers_before_anything_is_written(
    flow: Flow, budget: Budget, client: FlaskClient, db_session: Session, cast: Cast
) -> None:
    path = f"/v1/budgets/{budget.id}/can-buy"
    ok = client.post(
        path,
        json={
            "category": "equipment",
            "description": "A shower chair",
            "funding_stream_id": budget.streams[0].id,
        },
        headers=flow.person,
    )
    assert ok.status_code == 200 and ok.get_json() == {"ok": True, "findings": []}
    no = client.post(
        path,
        json={
            "category": "therapy",
            "description": "Betting shop vouchers",
            "funding_stream_id": budget.streams[1].id,
            "start_date": "2027-05-01",
        },
        headers=flow.person,
    ).get_json()
    assert not no["ok"]
    assert [f["code"] for f in no["findings"]] == [
        "never-allowed-item",
        "category-not-payable-from-stream",
        "line-outside-budget-period",
    ]
    assert_problem(
        client.post(path, json={"category": "x"}, headers=flow.person), 422, "validation-error"
    )
    assert_problem(
        client.post(
            path,
            json={"category": "equipment", "description": "Chair", "funding_stream_id": "s"},
            headers=bearer_for(db_session, cast.stranger),
        ),
        404,
        "not-found",
    )
