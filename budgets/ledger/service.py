"""Moving money on a budget: allocation, releases, commitments, spends, refunds, recovery.

Every function here adds and flushes but never commits: the caller's use case commits.
Functions that can reduce what is available lock the budget row first (`FOR UPDATE` on
PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), so two requests racing for the
same money are checked one after the other and nothing is ever overspent.

Accounts per funding stream: commissioner -> unreleased -> available -> committed -> spent.
Each transaction's postings sum to zero; balances are sums of postings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import new_id, utcnow
from app.domain_errors import InvalidState, NotFound, RuleViolation, ValidationFailed
from auth.access import can_see_person
from auth.actor import Actor
from budgets.dates import periods_started
from budgets.funding.models import Budget, FundingStream
from budgets.ledger.models import LedgerEntry
from budgets.plans.models import CarePlan, PlanLine

_RELEASE_STEP_MONTHS = {"monthly": 1, "quarterly": 3}


@dataclass(frozen=True)
class Balance:
    """Money figures in pence; `available` is released money not yet committed or spent."""

    allocated: int = 0
    released: int = 0
    committed: int = 0
    spent: int = 0
    available: int = 0


@dataclass(frozen=True)
class LineBalance:
    """A plan line's figures: its planned cost, what is committed and spent against it."""

    plan_line_id: str
    lineage_id: str
    planned: int
    committed: int
    spent: int

    @property
    def available(self) -> int:
        return self.planned - self.committed - self.spent


@dataclass(frozen=True)
class BudgetBalances:
    """Balances of a budget overall, per funding stream and per plan line."""

    overall: Balance
    streams: dict[str, Balance] = field(default_factory=dict)
    lines: dict[str, LineBalance] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading


def _stream_sums(session: Session, budget_id: str) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(
            LedgerEntry.funding_stream_id, LedgerEntry.account, func.sum(LedgerEntry.amount_pence)
        )
        .where(LedgerEntry.budget_id == budget_id)
        .group_by(LedgerEntry.funding_stream_id, LedgerEntry.account)
    ).all()
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for stream_id, account, total in rows:
        sums[stream_id][account] = int(total or 0)
    return sums


def _balance_from(sums: dict[str, int]) -> Balance:
    allocated = -sums.get("commissioner", 0)
    return Balance(
        allocated=allocated,
        released=allocated - sums.get("unreleased", 0),
        committed=sums.get("committed", 0),
        spent=sums.get("spent", 0),
        available=sums.get("available", 0),
    )


def _lineage_sums(session: Session, lineage_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    ids = sorted(set(lineage_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(PlanLine.lineage_id, LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
        .join(PlanLine, PlanLine.id == LedgerEntry.plan_line_id)
        .where(PlanLine.lineage_id.in_(ids))
        .group_by(PlanLine.lineage_id, LedgerEntry.account)
    ).all()
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for lineage_id, account, total in rows:
        sums[lineage_id][account] = int(total or 0)
    return sums


def line_balance(session: Session, line: PlanLine) -> LineBalance:
    """What is planned, committed and spent on this line (across plan versions)."""
    sums = _lineage_sums(session, [line.lineage_id]).get(line.lineage_id, {})
    return LineBalance(
        plan_line_id=line.id,
        lineage_id=line.lineage_id,
        planned=line.planned_total_pence,
        committed=sums.get("committed", 0),
        spent=sums.get("spent", 0),
    )


def balances(session: Session, *, budget_id: str, plan_id: str | None = None) -> BudgetBalances:
    """Allocated, released, committed, spent and available from the ledger's postings.

    Per-line figures are for the lines of `plan_id`, or of the budget's approved plan.
    """
    by_stream = _stream_sums(session, budget_id)
    stream_ids = session.scalars(
        select(FundingStream.id).where(FundingStream.budget_id == budget_id)
    ).all()
    streams = {stream_id: _balance_from(by_stream.get(stream_id, {})) for stream_id in stream_ids}
    overall = Balance(
        allocated=sum(b.allocated for b in streams.values()),
        released=sum(b.released for b in streams.values()),
        committed=sum(b.committed for b in streams.values()),
        spent=sum(b.spent for b in streams.values()),
        available=sum(b.available for b in streams.values()),
    )
    if plan_id is None:
        plan_id = session.scalar(
            select(CarePlan.id).where(
                CarePlan.budget_id == budget_id, CarePlan.status == "approved"
            )
        )
    lines = (
        list(session.scalars(select(PlanLine).where(PlanLine.plan_id == plan_id)).all())
        if plan_id
        else []
    )
    lineage = _lineage_sums(session, [line.lineage_id for line in lines])
    line_balances = {
        line.id: LineBalance(
            plan_line_id=line.id,
            lineage_id=line.lineage_id,
            planned=line.planned_total_pence,
            committed=lineage.get(line.lineage_id, {}).get("committed", 0),
            spent=lineage.get(line.lineage_id, {}).get("spent", 0),
        )
        for line in lines
    }
    return BudgetBalances(overall=overall, streams=streams, lines=line_balances)


# --------------------------------------------------------------------------- posting


def lock_budget(session: Session, budget_id: str) -> Budget:
    """The budget, re-read under a row lock held until the caller's transaction ends."""
    budget = session.scalars(
        select(Budget)
        .where(Budget.id == budget_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if budget is None:
        raise NotFound("No such budget.")
    return budget


def _post(
    session: Session,
    *,
    budget: Budget,
    funding_stream_id: str,
    kind: str,
    legs: list[tuple[str, str | None, int]],
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None,
) -> list[LedgerEntry]:
    """Add one balanced transaction: `legs` are (account, plan line id, signed amount)."""
    if sum(amount for _, _, amount in legs) != 0:
        raise AssertionError("a ledger transaction must sum to zero")
    transaction_id = new_id()
    now = utcnow()
    entries = [
        LedgerEntry(
            transaction_id=transaction_id,
            budget_id=budget.id,
            funding_stream_id=funding_stream_id,
            plan_line_id=line_id,
            account=account,
            kind=kind,
            amount_pence=amount,
            currency=budget.currency,
            cause_type=cause_type,
            cause_id=cause_id,
            actor_user_id=actor.user_id if actor else None,
            actor_client_id=actor.client_id if actor else None,
            on_behalf_of_person_id=budget.person_id,
            note=note,
            occurred_at=now,
        )
        for account, line_id, amount in legs
    ]
    session.add_all(entries)
    record_audit(
        session,
        actor=actor,
        action=f"ledger.{kind}",
        record_type="budget",
        record_id=budget.id,
        subject_person_id=budget.person_id,
        details={
            "transaction_id": transaction_id,
            "amount_pence": sum(amount for _, _, amount in legs if amount > 0),
            "funding_stream_id": funding_stream_id,
            "plan_line_id": next((line for _, line, _ in legs if line), None),
            "cause_type": cause_type,
            "cause_id": cause_id,
        },
    )
    session.flush()
    return entries


def _require_positive(amount_pence: int) -> None:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise ValidationFailed({"amount_pence": ["Must be a whole number of pence above zero."]})


def release_due_funds(
    session: Session, *, budget: Budget, today: date, actor: Actor | None = None
) -> list[LedgerEntry]:
    """Release each stream's share that has fallen due under the budget's release schedule.

    The first share is released at allocation; later ones as each month or quarter begins.
    The caller holds the budget lock.
    """
    if budget.release_schedule in _RELEASE_STEP_MONTHS:
        begun, total = periods_started(
            budget.period_start,
            budget.period_end,
            _RELEASE_STEP_MONTHS[budget.release_schedule],
            today,
        )
        begun = max(begun, 1)
    else:
        begun, total = 1, 1
    posted: list[LedgerEntry] = []
    sums = _stream_sums(session, budget.id)
    for stream in budget.streams:
        stream_sums = sums.get(stream.id, {})
        allocated = -stream_sums.get("commissioner", 0)
        unreleased = stream_sums.get("unreleased", 0)
        due = min(allocated * min(begun, total) // total - (allocated - unreleased), unreleased)
        if due > 0:
            posted += _post(
                session,
                budget=budget,
                funding_stream_id=stream.id,
                kind="release",
                legs=[("unreleased", None, -due), ("available", None, due)],
                cause_type="release_schedule",
                cause_id=budget.id,
                actor=actor,
                note=None,
            )
    return posted


def allocate_funds(
    session: Session,
    *,
    budget: Budget,
    funding_stream_id: str,
    amount_pence: int,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    kind: str = "allocation",
    today: date | None = None,
    note: str | None = None,
) -> list[LedgerEntry]:
    """Give a stream more money from the commissioner, releasing whatever is already due."""
    _require_positive(amount_pence)
    entries = _post(
        session,
        budget=budget,
        funding_stream_id=funding_stream_id,
        kind=kind,
        legs=[("commissioner", None, -amount_pence), ("unreleased", None, amount_pence)],
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
    )
    return entries + release_due_funds(
        session, budget=budget, today=today or utcnow().date(), actor=actor
    )


def reduce_allocation(
    session: Session,
    *,
    budget: Budget,
    funding_stream_id: str,
    amount_pence: int,
    kind: str,
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None = None,
) -> list[LedgerEntry]:
    """Return money to the commissioner: unreleased money first, then available money.

    Committed and spent money is never taken back here; the caller holds the budget lock.
    `kind` is `adjustment` (a reduction) or `recovery` (unspent money recovered).
    """
    _require_positive(amount_pence)
    sums = _stream_sums(session, budget.id).get(funding_stream_id, {})
    unreleased = sums.get("unreleased", 0)
    available = sums.get("available", 0)
    from_unreleased = 0 if kind == "recovery" else min(unreleased, amount_pence)
    from_available = amount_pence - from_unreleased
    if from_available > available:
        raise RuleViolation(
            "exceeds-uncommitted-funds",
            "That is more than the money in this funding stream that is not already "
            "committed or spent.",
            available=from_unreleased + available,
        )
    legs: list[tuple[str, str | None, int]] = [("commissioner", None, amount_pence)]
    if from_unreleased:
        legs.append(("unreleased", None, -from_unreleased))
    if from_available:
        legs.append(("available", None, -from_available))
    return _post(
        session,
        budget=budget,
        funding_stream_id=funding_stream_id,
        kind=kind,
        legs=legs,
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
    )


def _line_and_locked_budget(session: Session, plan_line_id: str) -> tuple[PlanLine, Budget]:
    line = session.get(PlanLine, plan_line_id)
    if line is None:
        raise NotFound("No such plan line.")
    budget = lock_budget(session, line.plan.budget_id)
    return line, budget


def _line_sums(session: Session, plan_line_id: str) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
        .where(LedgerEntry.plan_line_id == plan_line_id)
        .group_by(LedgerEntry.account)
    ).all()
    return {account: int(total or 0) for account, total in rows}


def _insufficient(scope: str, available: int, detail: str) -> RuleViolation:
    return RuleViolation("insufficient-funds", detail, scope=scope, available_pence=available)


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
    _require_positive(amount_pence)
    line, budget = _line_and_locked_budget(session, plan_line_id)
    if budget.status != "active":
        raise InvalidState(f"The budget is {budget.status}; no new spending can be committed.")
    if line.plan.status != "approved":
        raise RuleViolation(
            "plan-line-not-approved",
            "Only lines of the approved (current) care and support plan can be paid for.",
        )
    release_due_funds(session, budget=budget, today=utcnow().date(), actor=actor)
    stream_balances = {
        stream_id: _balance_from(sums)
        for stream_id, sums in _stream_sums(session, budget.id).items()
    }
    stream = stream_balances.get(line.funding_stream_id, Balance())
    overall_available = sum(b.available for b in stream_balances.values())
    remaining_on_line = line_balance(session, line).available
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
    entries = _post(
        session,
        budget=budget,
        funding_stream_id=line.funding_stream_id,
        kind="commitment",
        legs=[("available", None, -amount_pence), ("committed", line.id, amount_pence)],
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        note=note,
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
    _require_positive(amount_pence)
    line, budget = _line_and_locked_budget(session, plan_line_id)
    if require_active and budget.status != "active":
        raise InvalidState(f"The budget is {budget.status}; payments are stopped.")
    held = _line_sums(session, line.id).get(source, 0)
    if amount_pence > held:
        raise RuleViolation(
            f"exceeds-{source}",
            f"That is more than is {source} on this plan line.",
            available_pence=held,
        )
    entries = _post(
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


def plan_line_for_booking(session: Session, *, plan_line_id: str, actor: Actor) -> PlanLine:
    """A plan line the actor may book against (404 if it is not theirs to see)."""
    line = session.get(PlanLine, plan_line_id)
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
