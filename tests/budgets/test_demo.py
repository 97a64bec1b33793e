"""The demo dataset shows budgets, approved plans, spending and a draft revision."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.demo import seed_demo
from auth.models import Person
from budgets.demo import LEO_NHS_NUMBER, PRIYA_NHS_NUMBER
from budgets.funding.models import Budget
from budgets.ledger import service as ledger
from budgets.plans.models import CarePlan


def test_demo_budgets_are_complete_and_seeding_twice_changes_nothing(db_session: Session) -> None:
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    for nhs_number in (PRIYA_NHS_NUMBER, LEO_NHS_NUMBER):
        person = db_session.scalars(select(Person).where(Person.nhs_number == nhs_number)).one()
        budget = db_session.scalars(select(Budget).where(Budget.person_id == person.id)).one()
        statuses = db_session.scalars(
            select(CarePlan.status).where(CarePlan.budget_id == budget.id)
        ).all()
        assert "approved" in statuses
        figures = ledger.balances(db_session, budget_id=budget.id)
        assert figures.overall.spent > 0 and figures.overall.available >= 0
        assert all(line.available >= 0 for line in figures.lines.values())
    assert db_session.scalar(select(func.count()).where(CarePlan.status == "draft")) == 1
