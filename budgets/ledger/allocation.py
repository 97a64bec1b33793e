"""Money in and out of a budget: allocation from the commissioner, scheduled releases,
reductions and recovery. Add and flush only; the caller holds the budget lock and commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import RuleViolation
from auth.actor import Actor
from budgets.dates import periods_started
from budgets.funding.models import Budget
from budgets.ledger.balances import stream_sums
from budgets.ledger.models import LedgerEntry
from budgets.ledger.posting import (
    PostingBudget,
    lock_budget,
    post_transaction,
    require_positive,
)
from budgets.ledger.sums import locked_sums, stream_sums_of

_RELEASE_STEP_MONTHS = {"monthly": 1, "quarterly": 3}


class _Stream(Protocol):
    @property
    def id(self) -> str: ...


class ReleaseTerms(PostingBudget, Protocol):
    """What the release schedule, and posting its releases, need of a budget: a `Budget`,
    or its facts (budgets/funding/facts.py)."""

    @property
    def status(self) -> str: ...
    @property
    def release_schedule(self) -> str: ...
    @property
    def period_start(self) -> date: ...
    @property
    def period_end(self) -> date: ...
    @property
    def streams(self) -> Sequence[_Stream]: ...


def due_releases(
    session: Session,
    *,
    budget: ReleaseTerms,
    today: date,
    sums: dict[str, dict[str, int]] | None = None,
) -> dict[str, int]:
    """What each stream has due for release under the budget's schedule (positive only).

    `sums` are the budget's `stream_sums` when the caller has just read them."""
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
    if sums is None:
        sums = stream_sums(session, budget.id)
    due_by_stream = {}
    for stream in budget.streams:
        figures = sums.get(stream.id, {})
        allocated = -figures.get("commissioner", 0)
        unreleased = figures.get("unreleased", 0)
        due = min(allocated * min(begun, total) // total - (allocated - unreleased), unreleased)
        if due > 0:
            due_by_stream[stream.id] = due
    return due_by_stream


def release_due_funds(
    session: Session, *, budget: ReleaseTerms, today: date, actor: Actor | None = None
) -> list[LedgerEntry]:
    """Release each stream's share that has fallen due under the budget's release schedule.

    The first share is released at allocation; later ones as each month or quarter begins.
    The caller holds the budget lock.
    """
    posted: list[LedgerEntry] = []
    for stream_id, due in due_releases(session, budget=budget, today=today).items():
        posted += post_transaction(
            session,
            budget=budget,
            funding_stream_id=stream_id,
            kind="release",
            legs=[("unreleased", None, -due), ("available", None, due)],
            cause_type="release_schedule",
            cause_id=budget.id,
            actor=actor,
            note=None,
        )
    return posted


def sums_after_due_releases(
    session: Session,
    *,
    budget: ReleaseTerms,
    today: date,
    actor: Actor | None,
    locked: bool,
    sums: dict[str, dict[str, int]] | None = None,
) -> dict[str, dict[str, int]]:
    """The budget's `stream_sums`, after posting any release that has fallen due.

    The check reads the sums without a lock (or takes the caller's `sums`, just read), so
    reads do not queue behind bookings. Only when something is due (once a month or
    quarter) is the budget locked, unless the caller already holds the lock, and the
    releases recomputed under it.
    """
    if sums is None:
        sums = stream_sums(session, budget.id)
    if budget.status != "active" or not due_releases(
        session, budget=budget, today=today, sums=sums
    ):
        return sums
    if not locked:
        budget = lock_budget(session, budget.id)  # its terms as they stand under the lock
    release_due_funds(session, budget=budget, today=today, actor=actor)
    return stream_sums_of(locked_sums(session, budget.id))


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
    require_positive(amount_pence)
    entries = post_transaction(
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
    require_positive(amount_pence)
    sums = stream_sums(session, budget.id).get(funding_stream_id, {})
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
    return post_transaction(
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
