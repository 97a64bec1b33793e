"""Writing the lines of a draft plan: what is bought, checked against the rules as it is
written; and the commissioner's agreement to pay a family member in the household."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.db import new_id, utcnow
from app.domain_errors import InvalidState, NotFound, ValidationFailed
from app.sync import record_deletion
from auth.access import require_role
from auth.actor import Actor
from auth.roles import Role
from budgets.dates import occurrences
from budgets.funding.models import Budget
from budgets.funding.service import audit_budget, visible_budget
from budgets.plans import rules
from budgets.plans.models import CarePlan, PlanLine
from budgets.plans.service import (
    LINE_FIELDS,
    PLAN_LINE_RECORD_TYPE,
    allocated_by_stream,
    audit_plan,
    editable_plan,
    line_facts,
    touch,
)


def _planned_total(values: dict[str, Any]) -> int:
    start: date = values["start_date"]
    end: date = values["end_date"]
    if end < start:
        raise ValidationFailed({"end_date": ["Must be on or after start_date."]})
    return (
        int(values["unit_cost_pence"])
        * int(values["quantity"])
        * occurrences(start, end, values["frequency"])
    )


def _check_line_write(session: Session, plan: CarePlan, line: PlanLine) -> None:
    """Refuse a line that breaks a line rule, or takes the plan over budget."""
    budget = session.get(Budget, plan.budget_id)
    assert budget is not None
    findings = rules.check_line(line_facts(line), budget)
    facts = [line_facts(other) for other in plan.lines if other.id != line.id]
    facts.append(line_facts(line))
    findings += rules.check_totals(facts, allocated_by_stream=allocated_by_stream(session, budget))
    rules.refuse_if_any(findings)


def add_line(
    session: Session, *, plan_id: str, actor: Actor, values: dict[str, Any]
) -> tuple[CarePlan, PlanLine]:
    """Add what will be bought to a draft plan, checking the rules first."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = editable_plan(session, plan_id=plan_id, actor=actor, if_match=["*"])
    line = PlanLine(
        plan_id=plan.id,
        lineage_id=new_id(),
        planned_total_pence=_planned_total(values),
        **{name: values.get(name) for name in LINE_FIELDS if name in values},
    )
    _check_line_write(session, plan, line)
    session.add(line)
    session.flush()
    session.expire(plan, ["lines"])
    touch(plan)
    audit_plan(session, actor, "care_plan.line.add", plan, line_id=line.id)
    session.commit()
    return plan, line


def _line_of(plan: CarePlan, line_id: str) -> PlanLine:
    for line in plan.lines:
        if line.id == line_id:
            return line
    raise NotFound("No such line in this plan.")


def update_line(
    session: Session,
    *,
    plan_id: str,
    line_id: str,
    actor: Actor,
    if_match: list[str] | None,
    values: dict[str, Any],
) -> tuple[CarePlan, PlanLine]:
    """Change a line of a draft plan, checking the rules again."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = editable_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    line = _line_of(plan, line_id)
    budget = session.get(Budget, plan.budget_id)
    assert budget is not None
    if "funding_stream_id" in values and values["funding_stream_id"] not in {
        stream.id for stream in budget.streams
    }:
        raise ValidationFailed({"funding_stream_id": ["Not a funding stream of this budget."]})
    for name, value in values.items():
        setattr(line, name, value)
    if values.keys() & {
        "category",
        "description",
        "funding_stream_id",
        "pays_household_family_member",
    }:
        # The agreement was for the line as it was; a changed line needs it again.
        line.household_agreement_at = None
        line.household_agreement_by_user_id = None
    line.planned_total_pence = _planned_total({name: getattr(line, name) for name in LINE_FIELDS})
    _check_line_write(session, plan, line)
    touch(plan)
    audit_plan(session, actor, "care_plan.line.update", plan, line_id=line.id)
    session.commit()
    return plan, line


def delete_line(
    session: Session, *, plan_id: str, line_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    """Remove a line from a draft plan."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = editable_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    session.delete(_line_of(plan, line_id))
    # The plan is touched (its `lines` change); the tombstone tells apps holding the line.
    record_deletion(
        session, record_type=PLAN_LINE_RECORD_TYPE, record_id=line_id, owner_id=plan.person_id
    )
    session.flush()
    session.expire(plan, ["lines"])
    touch(plan)
    audit_plan(session, actor, "care_plan.line.delete", plan, line_id=line_id)
    session.commit()
    return plan


def record_household_agreement(
    session: Session, *, plan_id: str, line_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    """Record the commissioner's agreement to pay a family member in the same household."""
    require_role(actor, Role.ADMIN)
    plan = editable_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    line = _line_of(plan, line_id)
    if not line.pays_household_family_member:
        raise InvalidState("This line does not pay a family member in the household.")
    line.household_agreement_by_user_id = actor.user_id
    line.household_agreement_at = utcnow()
    touch(plan)
    audit_plan(session, actor, "care_plan.household_agreement", plan, line_id=line.id)
    session.commit()
    return plan


def check_purchase(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    category: str,
    description: str,
    funding_stream_id: str,
    start_date: date | None = None,
    end_date: date | None = None,
) -> list[rules.Finding]:
    """Can this be bought from this budget? The line rules, without writing anything."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    facts = rules.LineFacts(
        id=None,
        category=category,
        description=description,
        start_date=start_date or budget.period_start,
        end_date=end_date or start_date or budget.period_end,
        funding_stream_id=funding_stream_id,
        planned_total_pence=0,
        outcome_positions=(),
        pays_household_family_member=False,
        household_agreement_recorded=False,
    )
    findings = rules.check_line(facts, budget)
    audit_budget(session, actor, "budget.can_buy", budget, category=category, allowed=not findings)
    session.commit()
    return findings
