"""The ledger: balanced append-only postings, balances from entries, and no overspend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.db import get_db
from app.domain_errors import InvalidState, NotFound, RuleViolation
from auth.actor import Actor
from auth.models import Person
from budgets.funding.models import Budget
from budgets.ledger import allocation, posting
from budgets.ledger import service as ledger
from budgets.ledger.models import LedgerEntry
from budgets.ledger.statements import monthly_statement, statement_csv
from budgets.ledger.sums import disagreeing_budgets
from budgets.plans.models import PlanLine
from tests.budgets.builders import build_approved_line, build_budget, build_line, build_plan
from tests.builders import build_person_user, build_user
from tests.conftest import is_postgres

SYSTEM = Actor(user_id=None, client_id="test")


def _commit(session: Session, line_id: str, amount: int, cause: str = "b1") -> LedgerEntry:
    return ledger.commit_funds(
        session,
        plan_line_id=line_id,
        amount_pence=amount,
        cause_type="booking",
        cause_id=cause,
        actor=SYSTEM,
    )


def _move(
    session: Session, function: Callable[..., LedgerEntry], line_id: str, amount: int
) -> None:
    function(
        session,
        plan_line_id=line_id,
        amount_pence=amount,
        cause_type="payment",
        cause_id="p1",
        actor=SYSTEM,
    )


def _assert_balanced(session: Session, budget_id: str) -> None:
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id)
        .where(LedgerEntry.budget_id == budget_id)
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount_pence) != 0)
    ).all()
    assert unbalanced == []


def test_allocation_is_balanced_and_released_all_at_once(db_session: Session) -> None:
    budget = build_budget(db_session, streams=(("nhs_continuing_healthcare", 50_000),))
    figures = ledger.balances(db_session, budget_id=budget.id)
    assert figures.overall == ledger.Balance(
        allocated=50_000, released=50_000, committed=0, spent=0, available=50_000
    )
    _assert_balanced(db_session, budget.id)


def test_monthly_release_only_releases_what_is_due(db_session: Session) -> None:
    budget = build_budget(
        db_session,
        streams=(("other_nhs", 120_000),),
        release_schedule="monthly",
        today=date(2026, 4, 1),
    )
    assert ledger.balances(db_session, budget_id=budget.id).overall.released == 10_000
    ledger.release_due_funds(db_session, budget=budget, today=date(2026, 6, 15))
    assert ledger.balances(db_session, budget_id=budget.id).overall.released == 30_000
    ledger.release_due_funds(db_session, budget=budget, today=date(2027, 3, 1))
    assert ledger.balances(db_session, budget_id=budget.id).overall.released == 120_000


def test_commit_spend_reverse_refund_and_release_move_the_right_figures(
    db_session: Session,
) -> None:
    line = build_approved_line(db_session, budget_pence=100_000, line_pence=30_000)
    budget_id = line.plan.budget_id
    _commit(db_session, line.id, 20_000)
    _move(db_session, ledger.record_spend, line.id, 15_000)
    _move(db_session, ledger.reverse_spend, line.id, 5_000)
    _move(db_session, ledger.refund_spend, line.id, 2_000)
    _move(db_session, ledger.release_commitment, line.id, 10_000)
    figures = ledger.balances(db_session, budget_id=budget_id)
    # committed 20 -> spend 15 (5 left) -> reverse 5 (10) -> release 10 (0)
    # spent 15 -> reverse 5 (10) -> refund 2 (8)
    assert figures.overall == ledger.Balance(
        allocated=100_000, released=100_000, committed=0, spent=8_000, available=92_000
    )
    assert figures.lines[line.id].available == 30_000 - 8_000
    _assert_balanced(db_session, budget_id)


def test_entries_record_cause_actor_and_person(db_session: Session) -> None:
    line = build_approved_line(db_session)
    user = build_user(db_session)
    actor = Actor(user_id=user.id, client_id="app")
    entry = ledger.commit_funds(
        db_session,
        plan_line_id=line.id,
        amount_pence=100,
        cause_type="booking",
        cause_id="bk-9",
        actor=actor,
        note="Swimming",
    )
    assert (entry.cause_type, entry.cause_id, entry.actor_user_id) == ("booking", "bk-9", user.id)
    assert entry.on_behalf_of_person_id == line.plan.person_id
    assert entry.account == "committed" and entry.amount_pence == 100
    audit = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ledger.commitment")
    ).one()
    assert audit.actor_user_id == user.id and audit.details is not None
    assert audit.details["cause_id"] == "bk-9" and audit.details["amount_pence"] == 100


def test_commit_beyond_the_line_is_refused(db_session: Session) -> None:
    line = build_approved_line(db_session, budget_pence=100_000, line_pence=10_000)
    with pytest.raises(RuleViolation) as refused:
        _commit(db_session, line.id, 10_001)
    assert refused.value.code == "insufficient-funds"
    assert refused.value.extensions["scope"] == "plan_line"


def test_money_spent_on_a_line_counts_against_what_it_can_still_commit(
    db_session: Session,
) -> None:
    line = build_approved_line(db_session, budget_pence=100_000, line_pence=10_000)
    _commit(db_session, line.id, 6_000)
    _move(db_session, ledger.record_spend, line.id, 4_000)  # 2,000 held, 4,000 spent
    with pytest.raises(RuleViolation) as refused:
        _commit(db_session, line.id, 4_001, cause="b2")
    assert refused.value.extensions["scope"] == "plan_line"
    assert refused.value.extensions["available_pence"] == 4_000
    assert _commit(db_session, line.id, 4_000, cause="b3").amount_pence == 4_000


def test_commit_beyond_the_stream_is_refused(db_session: Session) -> None:
    line = build_approved_line(db_session, budget_pence=5_000, line_pence=10_000)
    with pytest.raises(RuleViolation) as refused:
        _commit(db_session, line.id, 6_000)
    assert refused.value.extensions["scope"] == "funding_stream"


def test_commit_beyond_released_money_is_refused(db_session: Session) -> None:
    budget = build_budget(
        db_session,
        streams=(("other_nhs", 120_000),),
        release_schedule="monthly",
        period_start=date(2099, 1, 1),
        period_end=date(2099, 12, 31),
    )
    plan = build_plan(db_session, budget=budget, status="approved")
    line = build_line(db_session, plan=plan, unit_cost_pence=50_000, quantity=1)
    _commit(db_session, line.id, 10_000)
    with pytest.raises(RuleViolation) as refused:
        _commit(db_session, line.id, 1)
    assert refused.value.extensions["scope"] == "funding_stream"


def test_commit_needs_an_approved_plan_and_an_active_budget(db_session: Session) -> None:
    budget = build_budget(db_session)
    draft = build_plan(db_session, budget=budget)
    line = build_line(db_session, plan=draft)
    with pytest.raises(RuleViolation) as refused:
        _commit(db_session, line.id, 100)
    assert refused.value.code == "plan-line-not-approved"
    approved = build_approved_line(db_session)
    budget_row = db_session.get(Budget, approved.plan.budget_id)
    assert budget_row is not None
    budget_row.status = "suspended"
    db_session.flush()
    with pytest.raises(InvalidState):
        _commit(db_session, approved.id, 100)
    with pytest.raises(InvalidState):
        _move(db_session, ledger.record_spend, approved.id, 1)


def test_spend_and_release_cannot_exceed_what_is_held(db_session: Session) -> None:
    line = build_approved_line(db_session)
    _commit(db_session, line.id, 500)
    with pytest.raises(RuleViolation) as refused:
        _move(db_session, ledger.record_spend, line.id, 501)
    assert refused.value.code == "exceeds-committed"
    with pytest.raises(RuleViolation):
        _move(db_session, ledger.refund_spend, line.id, 1)


def test_plan_line_for_booking_is_404_for_other_people(db_session: Session) -> None:
    owner = build_person_user(db_session)
    stranger = build_person_user(db_session)
    line = build_approved_line(db_session, person=db_session.get(Person, owner.person_id))
    mine = Actor(
        user_id=owner.id, client_id="app", roles=frozenset({"person"}), person_id=owner.person_id
    )
    found = ledger.plan_line_for_booking(db_session, plan_line_id=line.id, actor=mine)
    assert (found.category, found.plan_status, found.person_id) == (
        "personal_assistant",
        "approved",
        owner.person_id,
    )
    assert found.budget_id == line.plan.budget_id
    other = Actor(
        user_id=stranger.id,
        client_id="app",
        roles=frozenset({"person"}),
        person_id=stranger.person_id,
    )
    with pytest.raises(NotFound):
        ledger.plan_line_for_booking(db_session, plan_line_id=line.id, actor=other)
    with pytest.raises(NotFound):
        ledger.plan_line_for_booking(db_session, plan_line_id="missing", actor=mine)


def test_entries_are_append_only_on_postgres(db_session: Session) -> None:
    if not is_postgres():
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    line = build_approved_line(db_session)
    entry = _commit(db_session, line.id, 100)
    with pytest.raises(DBAPIError), db_session.begin_nested():
        db_session.execute(
            text("UPDATE ledger_entries SET amount_pence = 1 WHERE id = :id"), {"id": entry.id}
        )
    with pytest.raises(DBAPIError), db_session.begin_nested():
        db_session.execute(text("DELETE FROM ledger_entries WHERE id = :id"), {"id": entry.id})


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["commit", "release", "spend", "reverse", "refund", "increase", "recover"]),
        st.integers(min_value=1, max_value=40_000),
    ),
    max_size=25,
)


def _apply(session: Session, line: PlanLine, budget: Budget, name: str, amount: int) -> int:
    """Run one operation; returns how much it changed the allocation by."""
    if name in ("increase", "recover"):
        change = ledger.allocate_funds if name == "increase" else ledger.reduce_allocation
        change(
            session,
            budget=budget,
            funding_stream_id=line.funding_stream_id,
            amount_pence=amount,
            kind="adjustment" if name == "increase" else "recovery",
            cause_type="test",
            cause_id=None,
            actor=SYSTEM,
        )
        return amount if name == "increase" else -amount
    functions = {
        "commit": ledger.commit_funds,
        "release": ledger.release_commitment,
        "spend": ledger.record_spend,
        "reverse": ledger.reverse_spend,
        "refund": ledger.refund_spend,
    }
    functions[name](
        session,
        plan_line_id=line.id,
        amount_pence=amount,
        cause_type="test",
        cause_id=None,
        actor=SYSTEM,
    )
    return 0


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_random_operation_sequences_keep_the_invariants(
    db_session: Session, operations: list[tuple[str, int]]
) -> None:
    with db_session.begin_nested() as savepoint:
        line = build_approved_line(db_session, budget_pence=60_000, line_pence=50_000)
        budget = db_session.get(Budget, line.plan.budget_id)
        assert budget is not None
        expected_allocation = 60_000
        for name, amount in operations:
            try:
                with db_session.begin_nested():
                    expected_allocation += _apply(db_session, line, budget, name, amount)
            except RuleViolation:
                pass
            figures = ledger.balances(db_session, budget_id=budget.id)
            overall = figures.overall
            assert min(overall.available, overall.committed, overall.spent) >= 0
            assert overall.allocated == expected_allocation
            assert overall.available + overall.committed + overall.spent == overall.released
            assert figures.lines[line.id].available >= 0
            assert figures.lines[line.id].committed + figures.lines[line.id].spent == (
                overall.committed + overall.spent
            )
            assert disagreeing_budgets(db_session) == []  # a refused one's savepoint included
        _assert_balanced(db_session, budget.id)
        savepoint.rollback()


def test_concurrent_commitments_never_overspend(committed_app: Flask) -> None:
    """Twelve racing commitments of 30 against 100 available: exactly three succeed."""
    factory = get_db(committed_app).session_factory
    setup = factory()
    line = build_approved_line(setup, budget_pence=10_000, line_pence=50_000)
    line_id, budget_id = line.id, line.plan.budget_id
    setup.commit()
    setup.close()
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        session = factory()
        try:
            barrier.wait()
            _commit(session, line_id, 3_000, cause=f"race-{n}")
            session.commit()
            outcomes.append("ok")
        except RuleViolation as refused:
            session.rollback()
            outcomes.append(refused.code)
        finally:
            session.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 3
    assert outcomes.count("insufficient-funds") == 9
    check = factory()
    figures = ledger.balances(check, budget_id=budget_id)
    assert figures.overall.committed == 9_000
    assert figures.overall.available == 1_000
    total = check.scalar(
        select(func.sum(LedgerEntry.amount_pence)).where(LedgerEntry.budget_id == budget_id)
    )
    assert total == 0
    check.close()


def test_statement_carries_earlier_months_into_the_opening_balance(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def at(moment: datetime) -> None:
        for module in (ledger, posting, allocation):
            monkeypatch.setattr(module, "utcnow", lambda: moment)

    at(datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    line = build_approved_line(db_session, budget_pence=100_000, line_pence=50_000)
    at(datetime(2026, 5, 3, 9, 0, tzinfo=UTC))
    _commit(db_session, line.id, 20_000)
    _move(db_session, ledger.record_spend, line.id, 20_000)
    reader = build_user(db_session)
    owner = Actor(
        user_id=reader.id,
        client_id="t",
        roles=frozenset({"person"}),
        person_id=line.plan.person_id,
    )
    may = monthly_statement(
        db_session, budget_id=line.plan.budget_id, actor=owner, year=2026, month=5
    )
    assert may.opening.available == 100_000
    assert [entry.kind for entry in may.lines] == ["commitment", "spend"]
    assert [entry.available_after_pence for entry in may.lines] == [80_000, 80_000]
    assert may.closing.spent == 20_000 and may.closing.available == 80_000
    june = monthly_statement(
        db_session, budget_id=line.plan.budget_id, actor=owner, year=2026, month=6
    )
    assert june.lines == [] and june.opening == june.closing == may.closing
    assert len(statement_csv(may).splitlines()) == 5  # header, opening, 2 entries, closing
    # Later postings change neither an earlier month's opening nor its closing.
    at(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    _move(db_session, ledger.refund_spend, line.id, 5_000)
    again = monthly_statement(
        db_session, budget_id=line.plan.budget_id, actor=owner, year=2026, month=5
    )
    assert (again.opening, again.closing, again.lines) == (may.opening, may.closing, may.lines)
    april = monthly_statement(
        db_session, budget_id=line.plan.budget_id, actor=owner, year=2026, month=4
    )
    assert april.opening == ledger.Balance() and april.closing == may.opening


def test_current_plan_line_follows_the_lineage_into_the_approved_version(
    db_session: Session,
) -> None:
    old = build_approved_line(db_session, budget_pence=100_000, line_pence=30_000)
    _commit(db_session, old.id, 10_000)
    old.plan.status = "superseded"
    budget = db_session.get(Budget, old.plan.budget_id)
    assert budget is not None
    new_plan = build_plan(db_session, budget=budget, status="approved")
    new = build_line(
        db_session, plan=new_plan, unit_cost_pence=30_000, quantity=1, lineage_id=old.lineage_id
    )
    assert ledger.current_plan_line(db_session, plan_line_id=old.id) is new
    with pytest.raises(RuleViolation):
        _commit(db_session, old.id, 1)
    with pytest.raises(RuleViolation) as refused:
        _commit(db_session, new.id, 20_001)
    assert refused.value.extensions["scope"] == "plan_line"
    _commit(db_session, new.id, 20_000)
    assert ledger.balances(db_session, budget_id=budget.id).lines[new.id].available == 0
    assert ledger.current_plan_line(db_session, plan_line_id="missing") is None
