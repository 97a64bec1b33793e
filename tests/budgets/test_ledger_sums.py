"""Each budget's running ledger sums (budgets/ledger/sums.py) move with every kind of
posting, follow a plan line across its versions, go with a rolled-back savepoint, and are
filled from the ledger by their migration. (Every test's teardown also checks them
against the postings: tests/conftest.py.)"""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import build_engine
from app.domain_errors import RuleViolation
from app.schema_migrations import alembic_config
from auth.actor import Actor
from budgets.funding.models import Budget
from budgets.ledger import allocation
from budgets.ledger import service as ledger
from budgets.ledger.sums import disagreeing_budgets, sums_from_postings
from budgets.plans.models import PlanLine
from tests.budgets.builders import build_approved_line, build_budget, build_line, build_plan
from tests.conftest import is_postgres

SYSTEM = Actor(user_id=None, client_id="test")


def _kept(session: Session, budget_id: str) -> dict:  # type: ignore[type-arg]
    session.flush()
    return session.execute(select(Budget.ledger_sums).where(Budget.id == budget_id)).scalar_one()


def _on_line(session: Session, function, line: PlanLine, amount: int) -> None:  # type: ignore[no-untyped-def]
    function(
        session,
        plan_line_id=line.id,
        amount_pence=amount,
        cause_type="payment",
        cause_id="p1",
        actor=SYSTEM,
    )


def test_every_kind_of_posting_moves_the_running_sums(db_session: Session) -> None:
    budget = build_budget(db_session, streams=(("other_nhs", 120_000),))
    stream_id = budget.streams[0].id
    plan = build_plan(db_session, budget=budget, status="approved", approved_on=date(2026, 4, 1))
    line = build_line(
        db_session, plan=plan, funding_stream_id=stream_id, unit_cost_pence=9_000, quantity=1
    )
    assert _kept(db_session, budget.id)["streams"][stream_id] == {
        "commissioner": -120_000,
        "unreleased": 0,
        "available": 120_000,
    }
    _on_line(db_session, ledger.commit_funds, line, 8_000)
    _on_line(db_session, ledger.record_spend, line, 5_000)
    _on_line(db_session, ledger.reverse_spend, line, 1_000)
    _on_line(db_session, ledger.refund_spend, line, 500)
    _on_line(db_session, ledger.release_commitment, line, 2_000)
    ledger.reduce_allocation(
        db_session,
        budget=budget,
        funding_stream_id=stream_id,
        amount_pence=3_000,
        kind="adjustment",
        cause_type="budget_change",
        cause_id="c1",
        actor=SYSTEM,
    )
    kept = _kept(db_session, budget.id)
    # committed 8,000 - 5,000 + 1,000 - 2,000; spent 5,000 - 1,000 - 500
    assert kept["streams"][stream_id] == {
        "commissioner": -117_000,
        "unreleased": 0,
        "available": 120_000 - 8_000 + 500 + 2_000 - 3_000,
        "committed": 2_000,
        "spent": 3_500,
    }
    assert kept["lines"] == {line.lineage_id: {"committed": 2_000, "spent": 3_500}}
    assert kept == sums_from_postings(db_session)[budget.id]


def test_a_lines_sums_follow_its_lineage_into_the_next_plan_version(db_session: Session) -> None:
    line = build_approved_line(db_session, budget_pence=100_000, line_pence=30_000)
    _on_line(db_session, ledger.commit_funds, line, 20_000)
    budget = db_session.get(Budget, line.plan.budget_id)
    assert budget is not None
    line.plan.status = "superseded"
    next_plan = build_plan(db_session, budget=budget, status="approved")
    next_line = build_line(
        db_session,
        plan=next_plan,
        unit_cost_pence=25_000,
        quantity=1,
        lineage_id=line.lineage_id,
    )
    # 20,000 of the lineage's 25,000 now is committed already: 5,000 is left.
    try:
        _on_line(db_session, ledger.commit_funds, next_line, 6_000)
        raise AssertionError("committed beyond the line across its versions")
    except RuleViolation as refused:
        assert refused.extensions["available_pence"] == 5_000
    _on_line(db_session, ledger.commit_funds, next_line, 5_000)
    assert _kept(db_session, budget.id)["lines"][line.lineage_id]["committed"] == 25_000


def test_a_rolled_back_savepoint_takes_its_sums_with_it(db_session: Session) -> None:
    line = build_approved_line(db_session, budget_pence=10_000, line_pence=10_000)
    budget_id = line.plan.budget_id
    with db_session.begin_nested() as savepoint:
        _on_line(db_session, ledger.commit_funds, line, 6_000)
        savepoint.rollback()
    # What the rolled-back commitment took is available again to the next one.
    _on_line(db_session, ledger.commit_funds, line, 7_000)
    assert _kept(db_session, budget_id)["lines"][line.lineage_id] == {"committed": 7_000}
    assert disagreeing_budgets(db_session) == []


def test_a_budget_whose_sums_were_changed_is_found(db_session: Session) -> None:
    line = build_approved_line(db_session)
    budget = db_session.get(Budget, line.plan.budget_id)
    assert budget is not None
    assert disagreeing_budgets(db_session) == []
    budget.ledger_sums = {"streams": {}, "lines": {}}
    db_session.flush()
    assert disagreeing_budgets(db_session) == [budget.id]
    budget.ledger_sums = sums_from_postings(db_session)[budget.id]
    db_session.flush()


def test_the_migration_fills_the_sums_from_the_ledger(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if is_postgres():  # the chain is checked on PostgreSQL by tests/app/test_migrations.py
        return
    engine = build_engine(f"sqlite:///{tmp_path / 'sums.db'}")
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), "head")
        with Session(engine) as session:
            line = build_approved_line(session, budget_pence=50_000, line_pence=20_000)
            _on_line(session, ledger.commit_funds, line, 12_000)
            budget_id, lineage_id = line.plan.budget_id, line.lineage_id
            stream_id = line.funding_stream_id
            session.commit()
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection=connection), "0014")
            command.upgrade(alembic_config(connection=connection), "0015")
        with Session(engine) as session:
            kept = _kept(session, budget_id)
            assert kept["lines"] == {lineage_id: {"committed": 12_000}}
            assert kept["streams"][stream_id]["available"] == 50_000 - 12_000
            assert disagreeing_budgets(session) == []
    finally:
        engine.dispose()


def test_allocation_releases_read_the_sums_they_have_just_moved(db_session: Session) -> None:
    budget = build_budget(
        db_session,
        streams=(("other_nhs", 120_000),),
        release_schedule="monthly",
        today=date(2026, 4, 1),
    )
    sums = allocation.sums_after_due_releases(
        db_session, budget=budget, today=date(2026, 7, 1), actor=SYSTEM, locked=False
    )
    assert sums[budget.streams[0].id]["available"] == 40_000
