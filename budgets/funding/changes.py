"""Changes to a budget after allocation: increases, reductions with notice, recovery of
unspent money, suspension, reinstatement and ending, each with its reason; and the daily
task that applies scheduled changes and releases money as it falls due."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import InvalidState, RuleViolation, ValidationFailed
from app.notifications import notify
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_role
from auth.actor import Actor
from auth.roles import Role
from budgets.funding.models import Budget, BudgetChange, FundingStream
from budgets.funding.service import audit_budget, policy_for, visible_budget
from budgets.ledger import service as ledger
from budgets.people import person_user_ids

# Grounds on which unspent money may be recovered (with written notice and reasons).
RECOVERY_GROUNDS = (
    "plan_change",
    "large_build_up",
    "spending_outside_plan",
    "suspected_fraud",
    "death",
)
CHANGE_KINDS = ("increase", "reduction", "recovery", "suspension", "reinstatement", "ending")


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
    audit_budget(
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
    audit_budget(session, actor, "budget.changes.read", budget)
    session.commit()
    return result
