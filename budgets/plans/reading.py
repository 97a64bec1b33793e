"""Reading one plan version for display: plain rows, not ORM objects.

The plan read is one of the person's main screens. Loading a plan, its outcomes and its
lines as ORM objects costs more CPU than the two queries that fetch them, and the read
changes nothing, so it needs no identity map or change tracking. Writes still go through
the ORM (`service.py`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.domain_errors import NotFound
from auth.access import can_see_person
from auth.actor import Actor
from budgets.plans.models import CarePlan, PlanLine, PlanOutcome

_plans = CarePlan.__table__
_PLAN_WITH_OUTCOMES = (
    select(_plans, PlanOutcome.position.label("outcome_position"), PlanOutcome.text)
    .outerjoin(PlanOutcome, PlanOutcome.plan_id == CarePlan.id)
    .where(CarePlan.id == bindparam("plan_id"))
    .order_by(PlanOutcome.position)
)
_LINES = (
    select(PlanLine.__table__).where(PlanLine.plan_id == bindparam("plan_id")).order_by(PlanLine.id)
)


def read_plan(session: Session, *, plan_id: str, actor: Actor) -> dict[str, Any]:
    """One plan version with its outcomes, lines and total, as `PlanSchema` dumps it, if
    the actor may see it (otherwise 404). The read is audited."""
    connection = session.connection()
    rows = connection.execute(_PLAN_WITH_OUTCOMES, {"plan_id": plan_id}).all()
    if not rows or not can_see_person(session, actor, rows[0].person_id):
        raise NotFound("No such care and support plan.")
    plan = {column.name: rows[0]._mapping[column] for column in _plans.c}
    lines = [row._mapping for row in connection.execute(_LINES, {"plan_id": plan_id})]
    plan["outcomes"] = [
        {"position": row.outcome_position, "text": row.text}
        for row in rows
        if row.outcome_position is not None
    ]
    plan["lines"] = lines
    plan["total_pence"] = sum(line["planned_total_pence"] for line in lines)
    record_audit(
        session,
        actor=actor,
        action="care_plan.read",
        record_type="care_plan",
        record_id=plan["id"],
        subject_person_id=plan["person_id"],
        details={"version_number": plan["version_number"], "status": plan["status"]},
    )
    session.commit()
    return plan
