"""Budget services without HTTP: scheduled changes, daily releases, local policy."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from app.db import utcnow
from auth.actor import Actor
from budgets.funding.changes import change_budget, run_daily_budget_tasks
from budgets.funding.models import BudgetChange, FundingPolicy
from budgets.funding.service import policy_for
from budgets.ledger import service as ledger
from tests.budgets.builders import build_budget
from tests.builders import build_admin, build_commissioner


def test_scheduled_reduction_applies_when_due_and_monthly_money_is_released(
    db_session: Session,
) -> None:
    today = utcnow().date()
    budget = build_budget(
        db_session,
        streams=(("other_nhs", 120_000),),
        release_schedule="monthly",
        period_start=today - timedelta(days=1),
        period_end=today + timedelta(days=363),
        today=today,
    )
    admin = build_admin(db_session, commissioner_id=budget.commissioner_id)
    actor = Actor(
        user_id=admin.id,
        client_id="t",
        roles=frozenset({"admin"}),
        commissioner_id=budget.commissioner_id,
    )
    change = change_budget(
        db_session,
        budget_id=budget.id,
        actor=actor,
        kind="reduction",
        reason="Assessed need has gone down",
        funding_stream_id=budget.streams[0].id,
        amount_pence=12_000,
        notice_given_on=today,
        effective_on=today + timedelta(days=30),
    )
    assert change.status == "scheduled"
    assert run_daily_budget_tasks(db_session, today=today)["changes_applied"] == 0
    later = today + timedelta(days=40)
    result = run_daily_budget_tasks(db_session, today=later)
    assert result["changes_applied"] == 1 and result["releases_posted"] == 1
    db_session.refresh(change)
    assert isinstance(change, BudgetChange) and change.status == "applied"
    figures = ledger.balances(db_session, budget_id=budget.id).overall
    assert figures.allocated == 108_000
    assert figures.released == 108_000 * 2 // 12


def test_commissioner_policy_overrides_defaults_from_its_date(db_session: Session) -> None:
    commissioner = build_commissioner(db_session)
    db_session.add(
        FundingPolicy(
            commissioner_id=commissioner.id,
            effective_from=date(2026, 6, 1),
            rules={"reduction_notice_days": 42},
        )
    )
    db_session.flush()
    before = policy_for(db_session, commissioner_id=commissioner.id, on=date(2026, 5, 31))
    after = policy_for(db_session, commissioner_id=commissioner.id, on=date(2026, 6, 1))
    assert before["reduction_notice_days"] == 28
    assert after["reduction_notice_days"] == 42
    assert after["nhs_first_review_months"] == 3
