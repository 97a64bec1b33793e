"""Writing care and support plans: create, revise, edit outcomes and lines, check rules.

Only a draft can change; every change bumps the plan's version, and edits must send the
ETag they read in If-Match so two devices never silently overwrite each other.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import new_id, utcnow
from app.domain_errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.pagination import Page, PageRequest, keyset_page
from app.versioning import check_if_match
from auth.access import can_see_person, require_role
from auth.actor import Actor
from auth.roles import Role
from budgets.dates import occurrences
from budgets.funding.models import Budget
from budgets.funding.service import visible_budget
from budgets.ledger import service as ledger
from budgets.plans import rules
from budgets.plans.models import CarePlan, PlanLine, PlanOutcome

OPEN_STATUSES = ("draft", "submitted", "reconsideration_requested")
_LINE_FIELDS = (
    "category",
    "description",
    "outcome_positions",
    "unit",
    "unit_cost_pence",
    "quantity",
    "frequency",
    "start_date",
    "end_date",
    "funding_stream_id",
    "provider_offer_id",
    "pays_household_family_member",
)


def visible_plan(session: Session, *, plan_id: str, actor: Actor) -> CarePlan:
    """The plan, if the actor may see it; otherwise 404."""
    plan = session.get(CarePlan, plan_id)
    if plan is None or not can_see_person(session, actor, plan.person_id):
        raise NotFound("No such care and support plan.")
    return plan


def audit_plan(
    session: Session, actor: Actor | None, action: str, plan: CarePlan, **details: Any
) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        record_type="care_plan",
        record_id=plan.id,
        subject_person_id=plan.person_id,
        details={"version_number": plan.version_number, "status": plan.status, **details},
    )


def lock_plan(
    session: Session, *, plan_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    """The visible plan, re-read under a row lock, after checking If-Match against it."""
    plan = visible_plan(session, plan_id=plan_id, actor=actor)
    plan = session.scalars(
        select(CarePlan)
        .where(CarePlan.id == plan.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    check_if_match(if_match, plan.id, plan.version)
    return plan


def _editable(
    session: Session, *, plan_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    if plan.status != "draft":
        raise InvalidState("Only a draft plan can be changed; start a revision instead.")
    return plan


def _touch(plan: CarePlan) -> None:
    plan.version += 1
    plan.updated_at = utcnow()


def line_facts(line: PlanLine) -> rules.LineFacts:
    return rules.LineFacts(
        id=line.id,
        category=line.category,
        description=line.description,
        start_date=line.start_date,
        end_date=line.end_date,
        funding_stream_id=line.funding_stream_id,
        planned_total_pence=line.planned_total_pence,
        outcome_positions=tuple(line.outcome_positions or ()),
        pays_household_family_member=line.pays_household_family_member,
        household_agreement_recorded=line.household_agreement_at is not None,
    )


def _allocated(session: Session, budget: Budget) -> dict[str, int]:
    return {
        stream_id: figures.allocated
        for stream_id, figures in ledger.balances(session, budget_id=budget.id).streams.items()
    }


def plan_findings(session: Session, plan: CarePlan, *, for_submission: bool) -> list[rules.Finding]:
    """Every rule the plan breaks now (submission adds the completeness rules)."""
    budget = session.get(Budget, plan.budget_id)
    assert budget is not None
    facts = [line_facts(line) for line in plan.lines]
    findings = [finding for fact in facts for finding in rules.check_line(fact, budget)]
    findings += rules.check_totals(facts, allocated_by_stream=_allocated(session, budget))
    if for_submission:
        findings += rules.check_for_submission(facts, outcome_count=len(plan.outcomes))
    return findings


def _open_plan_exists(session: Session, budget_id: str) -> bool:
    return bool(
        session.scalar(
            select(CarePlan.id).where(
                CarePlan.budget_id == budget_id, CarePlan.status.in_(OPEN_STATUSES)
            )
        )
    )


def _set_outcomes(session: Session, plan: CarePlan, texts: list[str]) -> None:
    for outcome in list(plan.outcomes):
        session.delete(outcome)
    session.flush()
    session.expire(plan, ["outcomes"])
    for position, text in enumerate(texts, start=1):
        session.add(PlanOutcome(plan_id=plan.id, position=position, text=text))
    session.flush()
    session.expire(plan, ["outcomes"])


def _new_version(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    outcomes: list[str],
    risks: str,
    review_arrangements: str,
    previous_version_id: str | None = None,
) -> CarePlan:
    """Add the budget's next plan version as a draft, if no other is open."""
    budget = ledger.lock_budget(session, budget_id)
    if budget.status != "active":
        raise InvalidState(f"The budget is {budget.status}; no new plan can be started.")
    if _open_plan_exists(session, budget.id):
        raise Conflict("This budget already has a plan being written or decided.")
    latest = session.scalar(
        select(func.max(CarePlan.version_number)).where(CarePlan.budget_id == budget.id)
    )
    plan = CarePlan(
        budget_id=budget.id,
        person_id=budget.person_id,
        version_number=(latest or 0) + 1,
        previous_version_id=previous_version_id,
        status="draft",
        risks=risks,
        review_arrangements=review_arrangements,
        broker_id=budget.broker_id,
        created_by_user_id=actor.user_id,
    )
    session.add(plan)
    session.flush()
    _set_outcomes(session, plan, outcomes)
    return plan


def create_plan(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    outcomes: list[str],
    risks: str,
    review_arrangements: str,
) -> CarePlan:
    """Start a draft plan for a budget, with outcomes in the person's own words."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    plan = _new_version(
        session,
        budget_id=budget.id,
        actor=actor,
        outcomes=outcomes,
        risks=risks,
        review_arrangements=review_arrangements,
    )
    audit_plan(session, actor, "care_plan.create", plan)
    session.commit()
    return plan


def revise_plan(session: Session, *, plan_id: str, actor: Actor) -> CarePlan:
    """Start a new draft version from a decided plan, copying its outcomes and lines."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    source = visible_plan(session, plan_id=plan_id, actor=actor)
    if source.status not in ("approved", "changes_requested", "declined"):
        raise InvalidState("Only an approved, declined or returned plan can be revised.")
    plan = _new_version(
        session,
        budget_id=source.budget_id,
        actor=actor,
        outcomes=[outcome.text for outcome in source.outcomes],
        risks=source.risks,
        review_arrangements=source.review_arrangements,
        previous_version_id=source.id,
    )
    for line in source.lines:
        copy = PlanLine(
            plan_id=plan.id,
            lineage_id=line.lineage_id,
            planned_total_pence=line.planned_total_pence,
            currency=line.currency,
            household_agreement_by_user_id=line.household_agreement_by_user_id,
            household_agreement_at=line.household_agreement_at,
            **{name: getattr(line, name) for name in _LINE_FIELDS},
        )
        session.add(copy)
    session.flush()
    session.expire(plan, ["lines"])
    audit_plan(session, actor, "care_plan.revise", plan, previous_version_id=source.id)
    session.commit()
    return plan


def get_plan(session: Session, *, plan_id: str, actor: Actor) -> CarePlan:
    """One plan version (the read is audited)."""
    plan = visible_plan(session, plan_id=plan_id, actor=actor)
    audit_plan(session, actor, "care_plan.read", plan)
    session.commit()
    return plan


def list_plan_versions(
    session: Session, *, budget_id: str, actor: Actor, page: PageRequest
) -> Page[CarePlan]:
    """Every version of a budget's plan, newest first."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    result = keyset_page(
        session,
        select(CarePlan).where(CarePlan.budget_id == budget.id),
        keys=[CarePlan.version_number],
        page=page,
        scope=f"plans:{budget.id}",
        descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="care_plan.list",
        record_type="budget",
        record_id=budget.id,
        subject_person_id=budget.person_id,
    )
    session.commit()
    return result


def update_plan(
    session: Session,
    *,
    plan_id: str,
    actor: Actor,
    if_match: list[str] | None,
    outcomes: list[str] | None = None,
    risks: str | None = None,
    review_arrangements: str | None = None,
) -> CarePlan:
    """Change a draft's outcomes, risks or review arrangements."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = _editable(session, plan_id=plan_id, actor=actor, if_match=if_match)
    if outcomes is not None:
        _set_outcomes(session, plan, outcomes)
    if risks is not None:
        plan.risks = risks
    if review_arrangements is not None:
        plan.review_arrangements = review_arrangements
    _touch(plan)
    audit_plan(session, actor, "care_plan.update", plan)
    session.commit()
    return plan


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
    findings += rules.check_totals(facts, allocated_by_stream=_allocated(session, budget))
    rules.refuse_if_any(findings)


def add_line(
    session: Session, *, plan_id: str, actor: Actor, values: dict[str, Any]
) -> tuple[CarePlan, PlanLine]:
    """Add what will be bought to a draft plan, checking the rules first."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = _editable(session, plan_id=plan_id, actor=actor, if_match=["*"])
    line = PlanLine(
        plan_id=plan.id,
        lineage_id=new_id(),
        planned_total_pence=_planned_total(values),
        **{name: values.get(name) for name in _LINE_FIELDS if name in values},
    )
    _check_line_write(session, plan, line)
    session.add(line)
    session.flush()
    session.expire(plan, ["lines"])
    _touch(plan)
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
    plan = _editable(session, plan_id=plan_id, actor=actor, if_match=if_match)
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
    line.planned_total_pence = _planned_total({name: getattr(line, name) for name in _LINE_FIELDS})
    _check_line_write(session, plan, line)
    _touch(plan)
    audit_plan(session, actor, "care_plan.line.update", plan, line_id=line.id)
    session.commit()
    return plan, line


def delete_line(
    session: Session, *, plan_id: str, line_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    """Remove a line from a draft plan."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = _editable(session, plan_id=plan_id, actor=actor, if_match=if_match)
    session.delete(_line_of(plan, line_id))
    session.flush()
    session.expire(plan, ["lines"])
    _touch(plan)
    audit_plan(session, actor, "care_plan.line.delete", plan, line_id=line_id)
    session.commit()
    return plan


def record_household_agreement(
    session: Session, *, plan_id: str, line_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    """Record the commissioner's agreement to pay a family member in the same household."""
    require_role(actor, Role.ADMIN)
    plan = _editable(session, plan_id=plan_id, actor=actor, if_match=if_match)
    line = _line_of(plan, line_id)
    if not line.pays_household_family_member:
        raise InvalidState("This line does not pay a family member in the household.")
    line.household_agreement_by_user_id = actor.user_id
    line.household_agreement_at = utcnow()
    _touch(plan)
    audit_plan(session, actor, "care_plan.household_agreement", plan, line_id=line.id)
    session.commit()
    return plan


def check_plan(session: Session, *, plan_id: str, actor: Actor) -> list[rules.Finding]:
    """Every rule the plan would break if submitted now (changes nothing)."""
    plan = visible_plan(session, plan_id=plan_id, actor=actor)
    findings = plan_findings(session, plan, for_submission=True)
    audit_plan(session, actor, "care_plan.check", plan, findings=len(findings))
    session.commit()
    return findings
