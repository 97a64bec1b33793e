"""What a read of a budget's money needs to know of the budget, as plain rows, read in
the same statement as the ledger's sums.

Balances and statements are among the person's main screens; they need the budget's
owner, status, currency and release terms and its streams' ids and kinds, not ORM objects
with change tracking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, true
from sqlalchemy.orm import Session

from app.domain_errors import NotFound
from auth.access import can_see_person
from auth.actor import Actor
from budgets.funding.models import Budget, FundingStream
from budgets.ledger.balances import STREAM_SUMS
from budgets.ledger.models import LedgerEntry


@dataclass(frozen=True)
class StreamFacts:
    id: str
    kind: str


@dataclass(frozen=True)
class BudgetFacts:
    id: str
    person_id: str
    status: str
    release_schedule: str
    period_start: date
    period_end: date
    currency: str
    streams: tuple[StreamFacts, ...]


@dataclass(frozen=True)
class BudgetOwner:
    """Whose budget it is and in which currency: all a statement needs of the budget."""

    id: str
    person_id: str
    currency: str


StreamSums = dict[str, dict[str, int]]
"""The ledger's sums per funding stream id and account, as `ledger.stream_sums` gives."""

_STREAM_TOTALS = STREAM_SUMS.subquery()
# One row per stream and account (the budget's columns repeated): the facts and the sums
# in one statement, as a balance read needs both.
_BUDGET_WITH_STREAM_SUMS = (
    select(
        Budget.id,
        Budget.person_id,
        Budget.status,
        Budget.release_schedule,
        Budget.period_start,
        Budget.period_end,
        Budget.currency,
        FundingStream.id.label("stream_id"),
        FundingStream.kind,
        _STREAM_TOTALS.c.account,
        _STREAM_TOTALS.c.total,
    )
    .outerjoin(FundingStream, FundingStream.budget_id == Budget.id)
    .outerjoin(_STREAM_TOTALS, _STREAM_TOTALS.c.funding_stream_id == FundingStream.id)
    .where(Budget.id == bindparam("budget_id"))
    .order_by(FundingStream.id)
)
_TOTALS_BEFORE = (
    select(LedgerEntry.account, func.sum(LedgerEntry.amount_pence).label("total"))
    .where(
        LedgerEntry.budget_id == bindparam("budget_id"),
        LedgerEntry.occurred_at < bindparam("before"),
    )
    .group_by(LedgerEntry.account)
    .subquery()
)
_BUDGET_WITH_SUMS_BEFORE = (
    select(
        Budget.id,
        Budget.person_id,
        Budget.currency,
        _TOTALS_BEFORE.c.account,
        _TOTALS_BEFORE.c.total,
    )
    .outerjoin(_TOTALS_BEFORE, true())
    .where(Budget.id == bindparam("budget_id"))
)


def _visible_rows(session: Session, actor: Actor, rows: Sequence[Row[Any]]) -> Row[Any]:
    """The first row, if there is one and the actor may see the budget; otherwise 404
    (as `visible_budget`)."""
    if not rows or not can_see_person(session, actor, rows[0].person_id):
        raise NotFound("No such budget.")
    return rows[0]


def visible_budget_with_stream_sums(
    session: Session, *, budget_id: str, actor: Actor
) -> tuple[BudgetFacts, StreamSums]:
    """The budget's facts and its ledger's sums per stream and account, if the actor may
    see it."""
    rows = session.connection().execute(_BUDGET_WITH_STREAM_SUMS, {"budget_id": budget_id}).all()
    first = _visible_rows(session, actor, rows)
    streams: dict[str, StreamFacts] = {}
    sums: StreamSums = defaultdict(lambda: defaultdict(int))
    for row in rows:
        if row.stream_id is None:
            continue
        streams.setdefault(row.stream_id, StreamFacts(row.stream_id, row.kind))
        if row.account is not None:
            sums[row.stream_id][row.account] = int(row.total or 0)
    facts = BudgetFacts(
        id=first.id,
        person_id=first.person_id,
        status=first.status,
        release_schedule=first.release_schedule,
        period_start=first.period_start,
        period_end=first.period_end,
        currency=first.currency,
        streams=tuple(streams.values()),
    )
    return facts, sums


def visible_budget_with_sums_before(
    session: Session, *, budget_id: str, actor: Actor, before: datetime
) -> tuple[BudgetOwner, dict[str, int]]:
    """Whose budget it is, and its ledger's sums per account of everything posted before
    `before`, if the actor may see it."""
    rows = (
        session.connection()
        .execute(_BUDGET_WITH_SUMS_BEFORE, {"budget_id": budget_id, "before": before})
        .all()
    )
    first = _visible_rows(session, actor, rows)
    sums = {row.account: int(row.total or 0) for row in rows if row.account is not None}
    return BudgetOwner(first.id, first.person_id, first.currency), sums
