"""The ledger's contract for other packages (bookings, payments): commit, release, spend,
reverse and refund money on plan lines, and read balances.

Every function here adds and flushes but never commits: the caller's use case commits.
Functions that can reduce what is available lock the budget row first (`FOR UPDATE` on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), so two requests racing for the
same money are checked one after the other and nothing is ever overspent.

Accounts per funding stream: commissioner -> unreleased -> available -> committed -> spent.
Each transaction's postings sum to zero; balances are sums of postings.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.db import utcnow
from app.domain_errors import InvalidState, NotFound, RuleViolation
from auth.access import can_see_person
from auth.actor import Actor
from budgets.funding.facts import BudgetFacts
from budgets.funding.models import Budget
from budgets.ledger.allocation import (
    allocate_funds,
    due_releases,
    reduce_allocation,
    release_due_funds,
    sums_after_due_releases,
)
from budgets.ledger.balances import (
    Balance,
    BudgetBalances,
    LineBalance,
    LineFigures,
    balance_from,
    balances,
    line_balance,
    line_sums,
    overall_balances,
    stream_sums,
)
from budgets.ledger.models import LedgerEntry
from budgets.ledger.posting import (
    lock_budget,
    lock_budget_facts,
    post_transaction,
    require_positive,
)
from budgets.ledger.sums import lineage_sums_of, locked_sums, stream_sums_of
from budgets.plans.models import CarePlan, PlanLine

__all__ = [
    "Balance",
    "BudgetBalances",
    "LineBalance",
    "allocate_funds",
    "balances",
    "commit_funds",
    "commit_to_line",
    "current_plan_line",
    "due_releases",
    "line_balance",
    "lock_budget",
    "overall_balances",
    "plan_line_for_booking",
    "record_spend",
    "reduce_allocation",
    "refund_spend",
    "release_commitment",
    "release_due_funds",
    "reverse_spend",
    "stream_sums",
    "sums_after_due_releases",
]


def _line_and_locked_budget(session: Session, plan_line_id: str) -> tuple[PlanLine, Budget]:
    line = session.get(PlanLine, plan_line_id)
    if line is None:
        raise NotFound("No such plan line.")
    budget = lock_budget(session, line.plan.budget_id)
    return line, budget


def _insufficient(scope: str, available: int, detail: str) -> RuleViolation:
    return RuleViolation("insufficient-funds", detail, scope=scope, available_pence=available)


class LineToCommit(LineFigures, Protocol):
    """What committing money needs of a plan line: a `PlanLine`, or the plain facts a
    booking has read with its offer (budgets/bookings/service.py)."""

    @property
    def funding_stream_id(self) -> str: ...
    @property
    def plan_status(self) -> str: ...
    @property
    def budget_id(self) -> str: ...


def commit_funds(
    session: Session,
    *,
    plan_line_id: str,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
) -> LedgerEntry:
    """Hold money for a booking against an approved plan line; refuse any overspend."""
    line = session.get(PlanLine, plan_line_id)
    if line is None:
        raise NotFound("No such plan line.")
    return commit_to_line(
        session,
        line=line,
        amount_pence=amount_pence,
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
    )


def commit_to_line(
    session: Session,
    *,
    line: LineToCommit,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
    locked_budget: BudgetFacts | None = None,
) -> LedgerEntry:
    """`commit_funds` for a caller that has already read the line, and perhaps locked the
    line's budget and read its facts under that lock (`locked_budget`)."""
    require_positive(amount_pence)
    budget = locked_budget or lock_budget_facts(session, line.budget_id)
    if budget.status != "active":
        raise InvalidState(f"The budget is {budget.status}; no new spending can be committed.")
    if line.plan_status != "approved":
        raise RuleViolation(
            "plan-line-not-approved",
            "Only lines of the approved (current) care and support plan can be paid for.",
        )
    known = locked_sums(session, budget.id)  # read with the lock
    on_line = lineage_sums_of(known, line.lineage_id)
    remaining_on_line = LineBalance(
        plan_line_id=line.id,
        lineage_id=line.lineage_id,
        planned=line.planned_total_pence,
        committed=on_line.get("committed", 0),
        spent=on_line.get("spent", 0),
    ).available
    sums = sums_after_due_releases(
        session,
        budget=budget,
        today=utcnow().date(),
        actor=actor,
        locked=True,
        sums=stream_sums_of(known),
    )  # a release moves money between a stream's accounts, never on a line
    stream_balances = {stream_id: balance_from(figures) for stream_id, figures in sums.items()}
    stream = stream_balances.get(line.funding_stream_id, Balance())
    overall_available = sum(b.available for b in stream_balances.values())
    if amount_pence > remaining_on_line:
        raise _insufficient(
            "plan_line",
            remaining_on_line,
            "This would go over what the care and support plan sets aside for this line.",
        )
    if amount_pence > stream.available:
        raise _insufficient(
            "funding_stream",
            stream.available,
            "There is not enough released money left in this funding stream.",
        )
    if amount_pence > overall_available:
        raise _insufficient(
            "budget", overall_available, "There is not enough money left in the budget."
        )
    entries = post_transaction(
        session,
        budget=budget,
        funding_stream_id=line.funding_stream_id,
        kind="commitment",
        legs=[("available", None, -amount_pence), ("committed", line.id, amount_pence)],
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
        lineage_id=line.lineage_id,
    )
    return entries[1]


def _move_on_line(
    session: Session,
    *,
    plan_line_id: str,
    amount_pence: int,
    kind: str,
    source: str,
    target: str,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None,
    require_active: bool = False,
) -> LedgerEntry:
    """Move money between two accounts of a line, never taking the source below zero."""
    require_positive(amount_pence)
    line, budget = _line_and_locked_budget(session, plan_line_id)
    if require_active and budget.status != "active":
        raise InvalidState(f"The budget is {budget.status}; payments are stopped.")
    held = line_sums(session, line.id).get(source, 0)
    if amount_pence > held:
        raise RuleViolation(
            f"exceeds-{source}",
            f"That is more than is {source} on this plan line.",
            available_pence=held,
        )
    entries = post_transaction(
        session,
        budget=budget,
        funding_stream_id=line.funding_stream_id,
        kind=kind,
        legs=[
            (source, line.id, -amount_pence),
            (target, line.id if target != "available" else None, amount_pence),
        ],
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
        lineage_id=line.lineage_id,
    )
    return entries[1]


def release_commitment(
    session: Session,
    *,
    plan_line_id: str,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
) -> LedgerEntry:
    """Give held money back to available (a booking cancelled or delivered for less)."""
    return _move_on_line(
        session,
        plan_line_id=plan_line_id,
        amount_pence=amount_pence,
        kind="commitment_release",
        source="committed",
        target="available",
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
    )


def record_spend(
    session: Session,
    *,
    plan_line_id: str,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
) -> LedgerEntry:
    """Turn held money into spent money when a provider is paid (budget must be active)."""
    return _move_on_line(
        session,
        plan_line_id=plan_line_id,
        amount_pence=amount_pence,
        kind="spend",
        source="committed",
        target="spent",
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
        require_active=True,
    )


def reverse_spend(
    session: Session,
    *,
    plan_line_id: str,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
) -> LedgerEntry:
    """Undo a spend back into a commitment (e.g. a payment that failed)."""
    return _move_on_line(
        session,
        plan_line_id=plan_line_id,
        amount_pence=amount_pence,
        kind="spend_reversal",
        source="spent",
        target="committed",
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
    )


def refund_spend(
    session: Session,
    *,
    plan_line_id: str,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
) -> LedgerEntry:
    """Return spent money to available (a refund, transfer reversal or clawback)."""
    return _move_on_line(
        session,
        plan_line_id=plan_line_id,
        amount_pence=amount_pence,
        kind="refund",
        source="spent",
        target="available",
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
    )


# The plan comes in the same query; its outcomes are not needed to book.
_WITH_PLAN = [joinedload(PlanLine.plan).lazyload(CarePlan.outcomes)]


def plan_line_for_booking(session: Session, *, plan_line_id: str, actor: Actor) -> PlanLine:
    """A plan line the actor may book against (404 if it is not theirs to see)."""
    line = session.get(PlanLine, plan_line_id, options=_WITH_PLAN)
    if line is None or not can_see_person(session, actor, line.plan.person_id):
        raise NotFound("No such plan line.")
    return line


def current_plan_line(session: Session, *, plan_line_id: str) -> PlanLine | None:
    """The same line in the budget's approved plan now (lines keep their lineage across
    versions), or None if the approved plan no longer has it. For a booking made against
    an earlier version that wants to commit more money."""
    line = session.get(PlanLine, plan_line_id)
    if line is None:
        return None
    return session.scalars(
        select(PlanLine)
        .join(CarePlan, CarePlan.id == PlanLine.plan_id)
        .where(PlanLine.lineage_id == line.lineage_id, CarePlan.status == "approved")
    ).first()
