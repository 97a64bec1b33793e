"""Writing care and support plans: create, revise, edit outcomes, check rules (lines are in
`budgets.plans.lines`).

Only a draft can change; every change bumps the plan's version, and edits must send the
ETag they read in If-Match so two devices never silently overwrite each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Conflict, InvalidState, NotFound
from app.pagination import PageRequest
from app.sync import SyncPage, Tombstone, sync_page
from app.versioning import check_if_match
from auth.access import can_see_person, require_role
from auth.actor import Actor
from auth.roles import Role
from budgets.funding.models import Budget
from budgets.funding.service import visible_budget
from budgets.ledger import service as ledger
from budgets.plans import rules
from budgets.plans.models import CarePlan, PlanLine, PlanOutcome

OPEN_STATUSES = ("draft", "submitted", "reconsideration_requested")
LINE_FIELDS = (
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


# Built once: building a loader option costs more than the rest of the lookup.
_WITH_OUTCOMES = [joinedload(CarePlan.outcomes)]


def visible_plan(session: Session, *, plan_id: str, actor: Actor) -> CarePlan:
    """The plan, if the actor may see it; otherwise 404. Its outcomes come in the same
    query (its lines in one more)."""
    plan = session.get(CarePlan, plan_id, options=_WITH_OUTCOMES)
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


def editable_plan(
    session: Session, *, plan_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    if plan.status != "draft":
        raise InvalidState("Only a draft plan can be changed; start a revision instead.")
    return plan


PLAN_RECORD_TYPE = "care_plan"
PLAN_LINE_RECORD_TYPE = "plan_line"


def touch(plan: CarePlan) -> None:
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


def allocated_by_stream(session: Session, budget: Budget) -> dict[str, int]:
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
    findings += rules.check_totals(facts, allocated_by_stream=allocated_by_stream(session, budget))
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
            **{name: getattr(line, name) for name in LINE_FIELDS},
        )
        session.add(copy)
    session.flush()
    session.expire(plan, ["lines"])
    audit_plan(session, actor, "care_plan.revise", plan, previous_version_id=source.id)
    session.commit()
    return plan


def list_plan_versions(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    page: PageRequest,
    updated_since: datetime | None = None,
    sync_overlap_seconds: int = 0,
) -> SyncPage[CarePlan]:
    """Every version of a budget's plan, newest first; with `updated_since` only those
    changed since then (their lines and outcomes included), oldest change first."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    result = sync_page(
        session,
        select(CarePlan).where(CarePlan.budget_id == budget.id),
        updated_at=CarePlan.updated_at,
        id=CarePlan.id,
        page=page,
        scope=f"plans:{budget.id}",
        updated_since=updated_since,
        record_type=PLAN_RECORD_TYPE,
        # Plans are never deleted (a new version supersedes); listed for completeness.
        deleted_visible=Tombstone.owner_id == budget.person_id,
        overlap_seconds=sync_overlap_seconds,
        full_sync_keys=[CarePlan.version_number],
        full_sync_descending=True,
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
    plan = editable_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    if outcomes is not None:
        _set_outcomes(session, plan, outcomes)
    if risks is not None:
        plan.risks = risks
    if review_arrangements is not None:
        plan.review_arrangements = review_arrangements
    touch(plan)
    audit_plan(session, actor, "care_plan.update", plan)
    session.commit()
    return plan


def check_plan(session: Session, *, plan_id: str, actor: Actor) -> list[rules.Finding]:
    """Every rule the plan would break if submitted now (changes nothing)."""
    plan = visible_plan(session, plan_id=plan_id, actor=actor)
    findings = plan_findings(session, plan, for_submission=True)
    audit_plan(session, actor, "care_plan.check", plan, findings=len(findings))
    session.commit()
    return findings
