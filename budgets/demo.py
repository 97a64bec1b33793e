"""Demo budgets: Priya Shah (NHS and council money combined, paid monthly) and Leo Jones
(a child in continuing care), each with an approved plan, some spending, and for Priya a
draft revision. Idempotent: a person who already has a budget is left alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_id, utcnow
from auth.models import Person, User
from budgets.dates import add_months, occurrences
from budgets.funding.models import Budget, FundingStream
from budgets.ledger import service as ledger
from budgets.plans.models import CarePlan, PlanDecision, PlanLine, PlanOutcome

PRIYA_NHS_NUMBER = "9434765919"
LEO_NHS_NUMBER = "9434765870"


def _plan(
    session: Session,
    budget: Budget,
    *,
    version_number: int,
    status: str,
    outcomes: list[str],
    lines: list[dict[str, Any]],
    previous: CarePlan | None = None,
) -> CarePlan:
    plan = CarePlan(
        budget_id=budget.id,
        person_id=budget.person_id,
        version_number=version_number,
        previous_version_id=previous.id if previous else None,
        status=status,
        risks="If a support worker is ill, the agency named in the plan provides cover.",
        review_arrangements="A review with the support broker at home.",
        broker_id=budget.broker_id,
    )
    session.add(plan)
    session.flush()
    for position, text in enumerate(outcomes, start=1):
        session.add(PlanOutcome(plan_id=plan.id, position=position, text=text))
    by_kind = {stream.kind: stream.id for stream in budget.streams}
    for values in lines:
        values = dict(values)
        start = values.pop("start_date", budget.period_start)
        end = values.pop("end_date", budget.period_end)
        stream_id = by_kind[values.pop("stream")]
        session.add(
            PlanLine(
                plan_id=plan.id,
                lineage_id=values.pop("lineage_id", new_id()),
                start_date=start,
                end_date=end,
                funding_stream_id=stream_id,
                planned_total_pence=values["unit_cost_pence"]
                * values["quantity"]
                * occurrences(start, end, values["frequency"]),
                **values,
            )
        )
    session.flush()
    session.refresh(plan)
    return plan


def _approve(
    session: Session, budget: Budget, plan: CarePlan, broker_id: str | None, on: date
) -> None:
    plan.status = "approved"
    plan.submitted_at = utcnow() - timedelta(days=200)
    plan.decided_at = utcnow() - timedelta(days=198)
    plan.approved_on = on
    regimes = {stream.regime for stream in budget.streams}
    plan.nhs_review_due_on = add_months(on, 3) if "nhs" in regimes else None
    plan.council_review_due_on = add_months(on, 6) if "council" in regimes else None
    for kind in ("submitted", "approved"):
        session.add(PlanDecision(plan_id=plan.id, kind=kind, actor_user_id=broker_id))
    session.flush()


def _budget(
    session: Session, person: Person, streams: list[tuple[str, int]], schedule: str
) -> Budget:
    budget = Budget(
        person_id=person.id,
        commissioner_id=person.commissioner_id,
        broker_id=person.broker_id,
        period_start=date(2026, 4, 1),
        period_end=date(2027, 3, 31),
        holding_options=["direct_payment"] if schedule == "monthly" else ["notional"],
        release_schedule=schedule,
    )
    session.add(budget)
    session.flush()
    for kind, _ in streams:
        session.add(FundingStream(budget_id=budget.id, kind=kind, excluded_categories=[]))
    session.flush()
    session.refresh(budget)
    for stream, (_, amount) in zip(budget.streams, streams, strict=True):
        ledger.allocate_funds(
            session,
            budget=budget,
            funding_stream_id=stream.id,
            amount_pence=amount,
            cause_type="budget",
            cause_id=budget.id,
            actor=None,
        )
    return budget


def _spend(session: Session, line: PlanLine, amount: int, cause_id: str) -> None:
    for move in (ledger.commit_funds, ledger.record_spend):
        move(
            session,
            plan_line_id=line.id,
            amount_pence=amount,
            cause_type="demo",
            cause_id=cause_id,
            actor=None,
        )


def _line(plan: CarePlan, category: str) -> PlanLine:
    return next(line for line in plan.lines if line.category == category)


def seed_budgets(session: Session) -> None:
    """Add the demo budgets and plans if they are not there yet."""
    priya = session.scalars(select(Person).where(Person.nhs_number == PRIYA_NHS_NUMBER)).first()
    leo = session.scalars(select(Person).where(Person.nhs_number == LEO_NHS_NUMBER)).first()
    if priya is None or leo is None:
        return
    broker = session.get(User, priya.broker_id) if priya.broker_id else None
    broker_id = broker.id if broker else None
    if not session.scalar(select(Budget.id).where(Budget.person_id == priya.id)):
        budget = _budget(
            session,
            priya,
            [("nhs_continuing_healthcare", 1_800_000), ("council_social_care", 600_000)],
            "monthly",
        )
        pa = {
            "category": "personal_assistant",
            "description": "Personal assistant for getting out and about",
            "outcome_positions": [1, 2],
            "unit": "hour",
            "unit_cost_pence": 1_650,
            "quantity": 10,
            "frequency": "weekly",
            "stream": "nhs_continuing_healthcare",
            "lineage_id": new_id(),
        }
        swim = {
            "category": "activities",
            "description": "Swimming sessions at the leisure centre",
            "outcome_positions": [2],
            "unit": "session",
            "unit_cost_pence": 550,
            "quantity": 2,
            "frequency": "weekly",
            "stream": "council_social_care",
            "lineage_id": new_id(),
        }
        outcomes = [
            "I want to get out of the house on my own terms, not only when someone can take me.",
            "I want to swim again, because it helps my pain and I see friends there.",
        ]
        approved = _plan(
            session, budget, version_number=1, status="draft", outcomes=outcomes, lines=[pa, swim]
        )
        _approve(session, budget, approved, broker_id, date(2026, 5, 6))
        _spend(session, _line(approved, "personal_assistant"), 66_000, "demo-pa-may")
        _spend(session, _line(approved, "activities"), 4_400, "demo-swim-may")
        tablet = {
            "category": "technology",
            "description": "A tablet to video call my care team",
            "outcome_positions": [1],
            "unit": "item",
            "unit_cost_pence": 32_900,
            "quantity": 1,
            "frequency": "once",
            "start_date": date(2026, 12, 1),
            "end_date": date(2026, 12, 31),
            "stream": "nhs_continuing_healthcare",
        }
        _plan(
            session,
            budget,
            version_number=2,
            status="draft",
            outcomes=outcomes,
            lines=[pa, swim, tablet],
            previous=approved,
        )
    if not session.scalar(select(Budget.id).where(Budget.person_id == leo.id)):
        budget = _budget(session, leo, [("nhs_continuing_healthcare", 1_200_000)], "all_at_once")
        plan = _plan(
            session,
            budget,
            version_number=1,
            status="draft",
            outcomes=["Leo wants to go on short breaks with other children, like his friends do."],
            lines=[
                {
                    "category": "short_breaks",
                    "description": "Weekend short breaks at an accessible activity centre",
                    "outcome_positions": [1],
                    "unit": "day",
                    "unit_cost_pence": 18_000,
                    "quantity": 2,
                    "frequency": "monthly",
                    "stream": "nhs_continuing_healthcare",
                },
                {
                    "category": "therapy",
                    "description": "Hydrotherapy sessions",
                    "outcome_positions": [1],
                    "unit": "session",
                    "unit_cost_pence": 4_500,
                    "quantity": 1,
                    "frequency": "weekly",
                    "stream": "nhs_continuing_healthcare",
                },
            ],
        )
        _approve(session, budget, plan, broker_id, date(2026, 4, 20))
        _spend(session, _line(plan, "short_breaks"), 36_000, "demo-short-break-june")
    session.flush()
