"""Deciding plans: submission, the broker's approval, decline or request for changes (with
reasons), reconsideration and its reasoned answer, and the review dates approval sets.

Submitted versions never change; every step is kept as a `PlanDecision`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import Forbidden, InvalidState, ValidationFailed
from app.notifications import notify
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_role
from auth.actor import Actor
from auth.models import Person
from auth.roles import Role
from budgets.dates import add_months
from budgets.funding.models import Budget
from budgets.funding.service import policy_for
from budgets.people import person_user_ids
from budgets.plans import rules
from budgets.plans.models import CarePlan, PlanDecision
from budgets.plans.service import audit_plan, lock_plan, plan_findings, visible_plan


def _require_own_broker(session: Session, plan: CarePlan, actor: Actor) -> None:
    """Only the broker whose caseload the person is on decides their plan."""
    require_role(actor, Role.BROKER)
    person = session.get(Person, plan.person_id)
    if person is None or person.broker_id != actor.user_id:
        raise Forbidden("Only the person's own support broker can decide this plan.")


def _record(
    session: Session,
    plan: CarePlan,
    actor: Actor,
    kind: str,
    reason: str | None = None,
    line_comments: dict[str, str] | None = None,
) -> PlanDecision:
    decision = PlanDecision(
        plan_id=plan.id,
        kind=kind,
        reason=reason,
        line_comments=line_comments or None,
        actor_user_id=actor.user_id,
    )
    session.add(decision)
    plan.version += 1
    plan.updated_at = utcnow()
    audit_plan(session, actor, f"care_plan.{kind}", plan)
    return decision


def _tell_person(session: Session, plan: CarePlan, kind: str, title: str) -> None:
    notify(
        session,
        user_ids=person_user_ids(session, plan.person_id),
        kind=f"care_plan.{kind}",
        title=title,
        body="Open your care and support plan to see the decision and the reasons.",
        record_type="care_plan",
        record_id=plan.id,
    )


def submit_plan(
    session: Session, *, plan_id: str, actor: Actor, if_match: list[str] | None
) -> CarePlan:
    """Send a draft to the broker; it is refused (with every reason) if it breaks a rule."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    if plan.status != "draft":
        raise InvalidState("Only a draft can be submitted.")
    rules.refuse_if_any(plan_findings(session, plan, for_submission=True))
    plan.status = "submitted"
    plan.submitted_at = utcnow()
    _record(session, plan, actor, "submitted")
    if plan.broker_id:
        notify(
            session,
            user_ids=[plan.broker_id],
            kind="care_plan.submitted",
            title="A care and support plan is waiting for your decision",
            record_type="care_plan",
            record_id=plan.id,
        )
    session.commit()
    return plan


def _set_review_dates(session: Session, plan: CarePlan, budget: Budget) -> None:
    """Reviews: the first soon after the first approval, then at least yearly, per regime."""
    approved_on = utcnow().date()
    policy = policy_for(session, commissioner_id=budget.commissioner_id, on=approved_on)
    earlier = session.scalar(
        select(CarePlan.id).where(
            CarePlan.budget_id == budget.id,
            CarePlan.id != plan.id,
            CarePlan.approved_on.is_not(None),
        )
    )
    regimes = {stream.regime for stream in budget.streams}
    plan.approved_on = approved_on
    later = int(policy["later_review_months"])
    if "nhs" in regimes:
        first = int(policy["nhs_first_review_months"])
        plan.nhs_review_due_on = add_months(approved_on, later if earlier else first)
    if "council" in regimes:
        first = int(policy["council_first_review_months"])
        plan.council_review_due_on = add_months(approved_on, later if earlier else first)


def _approve(session: Session, plan: CarePlan, actor: Actor, kind: str, reason: str | None) -> None:
    budget = session.get(Budget, plan.budget_id)
    assert budget is not None
    if budget.status != "active":
        raise InvalidState(f"The budget is {budget.status}; the plan cannot be approved now.")
    rules.refuse_if_any(plan_findings(session, plan, for_submission=True))
    for previous in session.scalars(
        select(CarePlan).where(CarePlan.budget_id == plan.budget_id, CarePlan.status == "approved")
    ):
        previous.status = "superseded"
        previous.version += 1
    session.flush()
    plan.status = "approved"
    plan.decided_at = utcnow()
    _set_review_dates(session, plan, budget)
    _record(session, plan, actor, kind, reason)
    _tell_person(session, plan, "approved", "Your care and support plan is approved")


def approve_plan(
    session: Session,
    *,
    plan_id: str,
    actor: Actor,
    if_match: list[str] | None,
    reason: str | None = None,
    line_comments: dict[str, str] | None = None,
) -> CarePlan:
    """Approve a submitted plan: it becomes the active plan and supersedes the last one."""
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    _require_own_broker(session, plan, actor)
    if plan.status != "submitted":
        raise InvalidState("Only a submitted plan can be approved.")
    _approve(session, plan, actor, "approved", reason)
    session.commit()
    return plan


def _apply_line_comments(plan: CarePlan, line_comments: dict[str, str] | None) -> None:
    known = {line.id: line for line in plan.lines}
    unknown = sorted(set(line_comments or {}) - set(known))
    if unknown:
        raise ValidationFailed({"line_comments": [f"Not lines of this plan: {', '.join(unknown)}"]})
    for line_id, comment in (line_comments or {}).items():
        known[line_id].review_comment = comment


def return_plan(
    session: Session,
    *,
    plan_id: str,
    actor: Actor,
    if_match: list[str] | None,
    kind: str,
    reason: str,
    line_comments: dict[str, str] | None = None,
) -> CarePlan:
    """Decline a submitted plan, or ask for changes, with a reason (and per-line comments)."""
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    _require_own_broker(session, plan, actor)
    if plan.status != "submitted":
        raise InvalidState("Only a submitted plan can be declined or returned for changes.")
    _apply_line_comments(plan, line_comments)
    plan.status = kind
    plan.decided_at = utcnow()
    _record(session, plan, actor, kind, reason, line_comments)
    title = (
        "Your care and support plan was not approved"
        if kind == "declined"
        else "Your broker has asked for changes to your plan"
    )
    _tell_person(session, plan, kind, title)
    session.commit()
    return plan


def request_reconsideration(
    session: Session, *, plan_id: str, actor: Actor, if_match: list[str] | None, reason: str
) -> CarePlan:
    """Ask the broker to think again about a declined plan, saying why."""
    require_role(actor, Role.PERSON, Role.REPRESENTATIVE)
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    if plan.status != "declined":
        raise InvalidState("Only a declined plan can be reconsidered.")
    plan.status = "reconsideration_requested"
    _record(session, plan, actor, "reconsideration_requested", reason)
    if plan.broker_id:
        notify(
            session,
            user_ids=[plan.broker_id],
            kind="care_plan.reconsideration_requested",
            title="Someone has asked you to reconsider a plan decision",
            record_type="care_plan",
            record_id=plan.id,
        )
    session.commit()
    return plan


def answer_reconsideration(
    session: Session,
    *,
    plan_id: str,
    actor: Actor,
    if_match: list[str] | None,
    decision: str,
    reason: str,
) -> CarePlan:
    """The broker's reasoned answer: approve after all, or uphold the decline."""
    plan = lock_plan(session, plan_id=plan_id, actor=actor, if_match=if_match)
    _require_own_broker(session, plan, actor)
    if plan.status != "reconsideration_requested":
        raise InvalidState("No reconsideration is waiting for an answer on this plan.")
    if decision == "approve":
        _approve(session, plan, actor, "reconsideration_approved", reason)
    else:
        plan.status = "declined"
        plan.decided_at = utcnow()
        _record(session, plan, actor, "reconsideration_upheld", reason)
        _tell_person(session, plan, "reconsideration_upheld", "Your broker has reconsidered")
    session.commit()
    return plan


def list_decisions(
    session: Session, *, plan_id: str, actor: Actor, page: PageRequest
) -> Page[PlanDecision]:
    """A plan version's history: submission, decisions and reconsideration, oldest first."""
    plan = visible_plan(session, plan_id=plan_id, actor=actor)
    result = keyset_page(
        session,
        select(PlanDecision).where(PlanDecision.plan_id == plan.id),
        keys=[PlanDecision.id],
        page=page,
        scope=f"plan-decisions:{plan.id}",
    )
    audit_plan(session, actor, "care_plan.decisions.read", plan)
    session.commit()
    return result
