"""Keyword builders for budgets, funding streams, plans and lines (flush, never commit).

Other packages' tests (bookings, payments) use `build_approved_line` to get a plan line
with money behind it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.db import new_id
from auth.models import Person
from budgets.dates import occurrences
from budgets.funding.models import Budget, FundingStream
from budgets.ledger.service import allocate_funds
from budgets.plans.models import CarePlan, PlanLine, PlanOutcome
from tests.builders import build_broker, build_person


def build_budget(
    session: Session,
    *,
    person: Person | None = None,
    streams: tuple[tuple[str, int], ...] = (("nhs_continuing_healthcare", 1_000_000),),
    period_start: date = date(2026, 4, 1),
    period_end: date = date(2027, 3, 31),
    release_schedule: str = "all_at_once",
    today: date | None = None,
    **overrides: Any,
) -> Budget:
    """An active budget with funded streams; the person gets a broker if they have none."""
    person = person or build_person(session)
    if person.broker_id is None:
        person.broker_id = build_broker(session, commissioner_id=person.commissioner_id).id
    values: dict[str, Any] = {
        "person_id": person.id,
        "commissioner_id": person.commissioner_id,
        "broker_id": person.broker_id,
        "period_start": period_start,
        "period_end": period_end,
        "holding_options": ["direct_payment"],
        "release_schedule": release_schedule,
    }
    values.update(overrides)
    budget = Budget(**values)
    session.add(budget)
    session.flush()
    for kind, _ in streams:
        session.add(FundingStream(budget_id=budget.id, kind=kind, excluded_categories=[]))
    session.flush()
    session.refresh(budget)
    for stream, (_, amount) in zip(budget.streams, streams, strict=True):
        allocate_funds(
            session,
            budget=budget,
            funding_stream_id=stream.id,
            amount_pence=amount,
            cause_type="budget",
            cause_id=budget.id,
            actor=None,
            today=today or period_start,
        )
    return budget


def build_plan(
    session: Session, *, budget: Budget, status: str = "draft", **overrides: Any
) -> CarePlan:
    values: dict[str, Any] = {
        "budget_id": budget.id,
        "person_id": budget.person_id,
        "broker_id": budget.broker_id,
        "status": status,
        "risks": "Carer illness; backup agency named.",
        "review_arrangements": "Broker visits every quarter.",
    }
    values.update(overrides)
    plan = CarePlan(**values)
    session.add(plan)
    session.flush()
    session.add(PlanOutcome(plan_id=plan.id, position=1, text="I want to get out of the house."))
    session.flush()
    return plan


def build_line(
    session: Session,
    *,
    plan: CarePlan,
    funding_stream_id: str | None = None,
    unit_cost_pence: int = 2000,
    quantity: int = 10,
    frequency: str = "once",
    **overrides: Any,
) -> PlanLine:
    budget = session.get(Budget, plan.budget_id)
    assert budget is not None
    start = overrides.pop("start_date", budget.period_start)
    end = overrides.pop("end_date", budget.period_end)
    values: dict[str, Any] = {
        "plan_id": plan.id,
        "lineage_id": new_id(),
        "category": "personal_assistant",
        "description": "Personal assistant to go swimming",
        "outcome_positions": [1],
        "unit": "hour",
        "unit_cost_pence": unit_cost_pence,
        "quantity": quantity,
        "frequency": frequency,
        "start_date": start,
        "end_date": end,
        "funding_stream_id": funding_stream_id or budget.streams[0].id,
        "planned_total_pence": unit_cost_pence * quantity * occurrences(start, end, frequency),
    }
    values.update(overrides)
    line = PlanLine(**values)
    session.add(line)
    session.flush()
    return line


def build_approved_line(
    session: Session,
    *,
    person: Person | None = None,
    budget_pence: int = 1_000_000,
    line_pence: int = 20_000,
    **line_overrides: Any,
) -> PlanLine:
    """A line of an approved plan on an active, funded budget (for bookings and payments)."""
    budget = build_budget(session, person=person, streams=(("other_nhs", budget_pence),))
    plan = build_plan(session, budget=budget, status="approved", approved_on=budget.period_start)
    return build_line(session, plan=plan, unit_cost_pence=line_pence, quantity=1, **line_overrides)
