"""Budgets: allocation by the commissioner, reading and balances, adjustments, suspension,
ending and recovery. Each public function is one use case and commits once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Conflict, InvalidState, NotFound, RuleViolation, ValidationFailed
from app.notifications import notify
from app.pagination import Page, PageRequest, keyset_page
from app.versioning import check_if_match
from auth.access import can_see_person, require_person_access, require_role, visible_people_clause
from auth.actor import Actor
from auth.models import Person, User
from auth.roles import Role
from budgets.funding.models import (
    DEFAULT_POLICY,
    Budget,
    BudgetChange,
    FundingPolicy,
    FundingStream,
)
from budgets.ledger import service as ledger
from budgets.people import person_user_ids
from budgets.plans.models import CarePlan

# Grounds on which unspent money may be recovered (with written notice and reasons).
RECOVERY_GROUNDS = (
    "plan_change",
    "large_build_up",
    "spending_outside_plan",
    "suspected_fraud",
    "death",
)
CHANGE_KINDS = ("increase", "reduction", "recovery", "suspension", "reinstatement", "ending")


def policy_for(session: Session, *, commissioner_id: str, on: date) -> dict[str, Any]:
    """The commissioner's funding rules in force on a day (defaults filled in)."""
    policy = session.scalars(
        select(FundingPolicy)
        .where(
            FundingPolicy.commissioner_id == commissioner_id,
            FundingPolicy.effective_from <= on,
        )
        .order_by(FundingPolicy.effective_from.desc())
    ).first()
    return {**DEFAULT_POLICY, **(policy.rules if policy else {})}


def visible_budget(session: Session, *, budget_id: str, actor: Actor) -> Budget:
    """The budget, if the actor may see it; otherwise 404."""
    budget = session.get(Budget, budget_id)
    if budget is None or not can_see_person(session, actor, budget.person_id):
        raise NotFound("No such budget.")
    return budget


def _audit(session: Session, actor: Actor, action: str, budget: Budget, **details: Any) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        record_type="budget",
        record_id=budget.id,
        subject_person_id=budget.person_id,
        details=details or None,
    )


def _check_broker(session: Session, broker_id: str, commissioner_id: str) -> None:
    broker = session.get(User, broker_id)
    if (
        broker is None
        or Role.BROKER not in broker.roles
        or broker.commissioner_id != commissioner_id
    ):
        raise ValidationFailed({"broker_id": ["Not a support broker of this commissioner."]})


def allocate_budget(
    session: Session,
    *,
    person_id: str,
    period_start: date,
    period_end: date,
    streams: list[dict[str, Any]],
    holding_options: list[str],
    release_schedule: str,
    broker_id: str | None,
    actor: Actor,
) -> Budget:
    """Allocate a budget to a person: period, funded streams, how it is held, broker."""
    require_role(actor, Role.ADMIN)
    person = require_person_access(session, actor, person_id)
    if period_end <= period_start:
        raise ValidationFailed({"period_end": ["Must be after period_start."]})
    kinds = [stream["kind"] for stream in streams]
    if len(set(kinds)) != len(kinds):
        raise ValidationFailed({"streams": ["Each funding stream kind may appear once."]})
    overlapping = session.scalar(
        select(Budget.id).where(
            Budget.person_id == person.id,
            Budget.status != "ended",
            Budget.period_start <= period_end,
            Budget.period_end >= period_start,
        )
    )
    if overlapping:
        raise Conflict("This person already has a budget for part of that period.")
    broker_id = broker_id or person.broker_id
    if broker_id:
        _check_broker(session, broker_id, person.commissioner_id)
        person.broker_id = broker_id
    budget = Budget(
        person_id=person.id,
        commissioner_id=person.commissioner_id,
        broker_id=broker_id,
        period_start=period_start,
        period_end=period_end,
        holding_options=sorted(set(holding_options)),
        release_schedule=release_schedule,
        created_by_user_id=actor.user_id,
    )
    session.add(budget)
    session.flush()
    for stream in streams:
        session.add(
            FundingStream(
                budget_id=budget.id,
                kind=stream["kind"],
                excluded_categories=sorted(set(stream.get("excluded_categories") or [])),
            )
        )
    session.flush()
    session.refresh(budget)
    amounts = {stream["kind"]: stream["amount_pence"] for stream in streams}
    for stream_row in budget.streams:
        ledger.allocate_funds(
            session,
            budget=budget,
            funding_stream_id=stream_row.id,
            amount_pence=amounts[stream_row.kind],
            cause_type="budget",
            cause_id=budget.id,
            actor=actor,
        )
    _audit(session, actor, "budget.allocate", budget, total_pence=sum(amounts.values()))
    notify(
        session,
        user_ids=person_user_ids(session, person.id),
        kind="budget.allocated",
        title="Your personal health budget is ready",
        body="You can see how much you have and start your care and support plan.",
        record_type="budget",
        record_id=budget.id,
    )
    session.commit()
    return budget


def update_budget(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    if_match: list[str] | None,
    broker_id: str | None = None,
    holding_options: list[str] | None = None,
    release_schedule: str | None = None,
) -> Budget:
    """Change the broker, how the money is held, or the release schedule (If-Match)."""
    require_role(actor, Role.ADMIN)
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    budget = ledger.lock_budget(session, budget.id)
    check_if_match(if_match, budget.id, budget.version)
    if budget.status == "ended":
        raise InvalidState("An ended budget cannot be changed.")
    if broker_id is not None:
        _check_broker(session, broker_id, budget.commissioner_id)
        budget.broker_id = broker_id
        person = session.get(Person, budget.person_id)
        assert person is not None
        person.broker_id = broker_id
    if holding_options is not None:
        budget.holding_options = sorted(set(holding_options))
    if release_schedule is not None:
        budget.release_schedule = release_schedule
    budget.version += 1
    _audit(
        session,
        actor,
        "budget.update",
        budget,
        broker_id=budget.broker_id,
        holding_options=budget.holding_options,
        release_schedule=budget.release_schedule,
    )
    session.commit()
    return budget


def get_budget(session: Session, *, budget_id: str, actor: Actor) -> Budget:
    """One budget the actor may see (the read is audited)."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    _audit(session, actor, "budget.read", budget)
    session.commit()
    return budget


def list_budgets(
    session: Session, *, actor: Actor, page: PageRequest, person_id: str | None = None
) -> Page[Budget]:
    """The budgets the actor may see, newest first, optionally for one person."""
    stmt = select(Budget).where(visible_people_clause(actor, Budget.person_id))
    if person_id:
        stmt = stmt.where(Budget.person_id == person_id)
    result = keyset_page(
        session, stmt, keys=[Budget.id], page=page, scope="budgets", descending=True
    )
    record_audit(
        session,
        actor=actor,
        action="budget.list",
        record_type="budget",
        record_id=None,
        details={"ids": [budget.id for budget in result.items]},
    )
    session.commit()
    return result


def budget_balances(
    session: Session, *, budget_id: str, actor: Actor, plan_id: str | None = None
) -> tuple[Budget, ledger.BudgetBalances]:
    """Allocated, released, committed, spent and available: overall, per stream, and per
    line of the approved plan (or of the plan version asked for)."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    if plan_id is not None and not session.scalar(
        select(CarePlan.id).where(CarePlan.id == plan_id, CarePlan.budget_id == budget.id)
    ):
        raise NotFound("No such plan on this budget.")
    if budget.status == "active":
        ledger.lock_budget(session, budget.id)
        ledger.release_due_funds(session, budget=budget, today=utcnow().date(), actor=None)
    figures = ledger.balances(session, budget_id=budget.id, plan_id=plan_id)
    _audit(session, actor, "budget.balances.read", budget)
    session.commit()
    return budget, figures


def _stream_of(budget: Budget, funding_stream_id: str | None) -> FundingStream:
    for stream in budget.streams:
        if stream.id == funding_stream_id:
            return stream
    raise ValidationFailed({"funding_stream_id": ["Not a funding stream of this budget."]})


def _apply_change(
    session: Session, budget: Budget, change: BudgetChange, actor: Actor | None
) -> None:
    """Post the change's money movement or status change now."""
    if change.kind == "increase":
        assert change.amount_pence is not None and change.funding_stream_id is not None
        ledger.allocate_funds(
            session,
            budget=budget,
            funding_stream_id=change.funding_stream_id,
            amount_pence=change.amount_pence,
            kind="adjustment",
            cause_type="budget_change",
            cause_id=change.id,
            actor=actor,
        )
    elif change.kind in ("reduction", "recovery"):
        assert change.amount_pence is not None and change.funding_stream_id is not None
        ledger.reduce_allocation(
            session,
            budget=budget,
            funding_stream_id=change.funding_stream_id,
            amount_pence=change.amount_pence,
            kind="adjustment" if change.kind == "reduction" else "recovery",
            cause_type="budget_change",
            cause_id=change.id,
            actor=actor,
        )
    elif change.kind == "suspension":
        budget.status = "suspended"
        budget.status_reason = change.reason
    elif change.kind == "reinstatement":
        budget.status = "active"
        budget.status_reason = change.reason
    elif change.kind == "ending":
        budget.status = "ended"
        budget.status_reason = change.reason
        budget.ended_on = change.effective_on
    budget.version += 1
    change.status = "applied"
    change.applied_at = utcnow()


_ALLOWED_FROM = {
    "increase": ("active", "suspended"),
    "reduction": ("active", "suspended"),
    "recovery": ("active", "suspended", "ended"),
    "suspension": ("active",),
    "reinstatement": ("suspended",),
    "ending": ("active", "suspended"),
}

_CHANGE_MESSAGES = {
    "increase": "Your budget has gone up",
    "reduction": "Notice of a change to your budget",
    "recovery": "Notice that unspent money will be recovered",
    "suspension": "Your budget has been paused",
    "reinstatement": "Your budget is active again",
    "ending": "Your budget is ending",
}


def change_budget(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    kind: str,
    reason: str,
    effective_on: date | None = None,
    funding_stream_id: str | None = None,
    amount_pence: int | None = None,
    reason_code: str | None = None,
    notice_given_on: date | None = None,
) -> BudgetChange:
    """Adjust, suspend, reinstate, end or recover money from a budget, with reasons.

    A reduction needs written notice at least the commissioner's notice period before it
    takes effect; until then it is scheduled. Recovery needs one of the recognised grounds.
    """
    require_role(actor, Role.ADMIN)
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    budget = ledger.lock_budget(session, budget.id)
    today = utcnow().date()
    effective_on = effective_on or today
    if budget.status not in _ALLOWED_FROM[kind]:
        raise InvalidState(f"A {kind} is not possible while the budget is {budget.status}.")
    if kind in ("increase", "reduction", "recovery"):
        _stream_of(budget, funding_stream_id)
        if amount_pence is None:
            raise ValidationFailed({"amount": ["Required for this kind of change."]})
    if kind in ("reduction", "recovery") and notice_given_on is None:
        raise ValidationFailed({"notice_given_on": ["Written notice is required."]})
    if kind == "recovery" and reason_code not in RECOVERY_GROUNDS:
        raise ValidationFailed(
            {"reason_code": [f"Recovery needs one of: {', '.join(RECOVERY_GROUNDS)}."]}
        )
    if kind == "reduction":
        assert notice_given_on is not None
        notice_days = int(
            policy_for(session, commissioner_id=budget.commissioner_id, on=notice_given_on)[
                "reduction_notice_days"
            ]
        )
        if effective_on < notice_given_on + timedelta(days=notice_days):
            raise RuleViolation(
                "reduction-notice-too-short",
                f"A reduction can take effect no sooner than {notice_days} days after "
                "written notice is given.",
                notice_days=notice_days,
            )
    change = BudgetChange(
        budget_id=budget.id,
        kind=kind,
        funding_stream_id=funding_stream_id,
        amount_pence=amount_pence,
        reason_code=reason_code,
        reason=reason,
        notice_given_on=notice_given_on,
        effective_on=effective_on,
        status="scheduled",
        actor_user_id=actor.user_id,
    )
    session.add(change)
    session.flush()
    if effective_on <= today:
        _apply_change(session, budget, change, actor)
    _audit(
        session,
        actor,
        f"budget.{kind}",
        budget,
        change_id=change.id,
        amount_pence=amount_pence,
        status=change.status,
    )
    notify(
        session,
        user_ids=[
            *person_user_ids(session, budget.person_id),
            *([budget.broker_id] if budget.broker_id else []),
        ],
        kind=f"budget.{kind}",
        title=_CHANGE_MESSAGES[kind],
        body="Open your budget to see what changes, when, and why.",
        record_type="budget",
        record_id=budget.id,
    )
    session.commit()
    return change


def run_daily_budget_tasks(session: Session, *, today: date) -> dict[str, int]:
    """Apply scheduled changes that have fallen due and release money due on every active
    budget; returns how many changes were applied and releases posted."""
    applied = apply_due_changes(session, today=today)
    released = 0
    for budget_id in session.scalars(select(Budget.id).where(Budget.status == "active")).all():
        budget = ledger.lock_budget(session, budget_id)
        released += len(ledger.release_due_funds(session, budget=budget, today=today)) // 2
        session.commit()
    return {"changes_applied": applied, "releases_posted": released}


def apply_due_changes(session: Session, *, today: date) -> int:
    """Apply scheduled changes whose effective date has come; returns how many."""
    due = session.scalars(
        select(BudgetChange).where(
            BudgetChange.status == "scheduled", BudgetChange.effective_on <= today
        )
    ).all()
    for change in due:
        budget = ledger.lock_budget(session, change.budget_id)
        _apply_change(session, budget, change, None)
        record_audit(
            session,
            actor=None,
            action=f"budget.{change.kind}.applied",
            record_type="budget",
            record_id=budget.id,
            subject_person_id=budget.person_id,
            details={"change_id": change.id},
        )
    session.commit()
    return len(due)


def list_changes(
    session: Session, *, budget_id: str, actor: Actor, page: PageRequest
) -> Page[BudgetChange]:
    """A budget's adjustments and status changes, newest first."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    result = keyset_page(
        session,
        select(BudgetChange).where(BudgetChange.budget_id == budget.id),
        keys=[BudgetChange.id],
        page=page,
        scope=f"budget-changes:{budget.id}",
        descending=True,
    )
    _audit(session, actor, "budget.changes.read", budget)
    session.commit()
    return result
