"""Reading one plan version for display: plain rows, not ORM objects.

The plan read is one of the person's main screens. Loading a plan, its outcomes and its
lines as ORM objects costs more CPU than the query that fetches them, and the read
changes nothing, so it needs no identity map or change tracking. Writes still go through
the ORM (`service.py`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.domain_errors import NotFound
from app.sql_parts import parts_union
from auth.access import can_see_person
from auth.actor import Actor
from budgets.plans.models import CarePlan, PlanLine, PlanOutcome

_PLAN_COLUMNS: list[Any] = list(CarePlan.__table__.c)
_OUTCOME_COLUMNS: list[Any] = [PlanOutcome.__table__.c.position, PlanOutcome.__table__.c.text]
_LINE_COLUMNS: list[Any] = list(PlanLine.__table__.c)
_PLAN_NAMES = [column.name for column in _PLAN_COLUMNS]
_LINE_NAMES = [column.name for column in _LINE_COLUMNS]
# The plan, its outcomes and its lines in one statement (app/sql_parts.py).
_PLAN_OUTCOMES_AND_LINES = parts_union(
    (_PLAN_COLUMNS, lambda part: part.where(CarePlan.id == bindparam("plan_id"))),
    (_OUTCOME_COLUMNS, lambda part: part.where(PlanOutcome.plan_id == bindparam("plan_id"))),
    (_LINE_COLUMNS, lambda part: part.where(PlanLine.plan_id == bindparam("plan_id"))),
    order_by=[PlanOutcome.__table__.c.position, PlanLine.__table__.c.id],
)


def read_plan(session: Session, *, plan_id: str, actor: Actor) -> dict[str, Any]:
    """One plan version with its outcomes, lines and total, as `PlanSchema` dumps it, if
    the actor may see it (otherwise 404). The read is audited."""
    plans, outcomes, line_rows = _PLAN_OUTCOMES_AND_LINES.read(session, {"plan_id": plan_id})
    if not plans:
        raise NotFound("No such care and support plan.")
    plan = dict(zip(_PLAN_NAMES, plans[0], strict=True))
    if not can_see_person(session, actor, plan["person_id"]):
        raise NotFound("No such care and support plan.")
    plan["outcomes"] = [{"position": position, "text": text} for position, text in outcomes]
    lines = [dict(zip(_LINE_NAMES, row, strict=True)) for row in line_rows]
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
