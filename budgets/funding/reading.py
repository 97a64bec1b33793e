"""What a read of a budget's money needs to know of the budget, as plain rows, read in
the same statement as the ledger's sums.

Balances and statements are among the person's main screens; they need the budget's
owner, status, currency and release terms and its streams' ids and kinds, not ORM objects
with change tracking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func
from sqlalchemy.orm import Session

from app.domain_errors import NotFound
from app.sql_parts import parts_union
from auth.access import can_see_person
from auth.actor import Actor
from budgets.funding.facts import BUDGET_FACT_COLUMNS, BudgetFacts, StreamFacts, budget_facts
from budgets.funding.models import Budget, FundingStream
from budgets.ledger.balances import LINES_OF_APPROVED_PLAN
from budgets.ledger.models import LedgerEntry
from budgets.ledger.sums import account_sums_of, lineage_sums_of, stream_sums_of
from budgets.plans.models import PlanLine


@dataclass(frozen=True)
class BudgetOwner:
    """Whose budget it is and in which currency: all a statement needs of the budget."""

    id: str
    person_id: str
    currency: str


StreamSums = dict[str, dict[str, int]]
"""The ledger's sums per funding stream id and account, as `ledger.stream_sums` gives."""

_STREAM_ID = FundingStream.id.label("stream_id")
_BUDGET_AND_STREAMS: list[Any] = [
    *BUDGET_FACT_COLUMNS,
    Budget.ledger_sums,
    _STREAM_ID,
    FundingStream.kind,
]
_APPROVED_LINES: list[Any] = [PlanLine.id, PlanLine.lineage_id, PlanLine.planned_total_pence]
# A balance read's facts and running sums (budgets/ledger/sums.py), one row per stream,
# then its approved plan's lines, in one statement (app/sql_parts.py).
_BUDGET_SUMS_AND_LINES = parts_union(
    (
        _BUDGET_AND_STREAMS,
        lambda part: (
            part.select_from(Budget)
            .outerjoin(FundingStream, FundingStream.budget_id == Budget.id)
            .where(Budget.id == bindparam("budget_id"))
        ),
    ),
    (_APPROVED_LINES, lambda part: part.where(LINES_OF_APPROVED_PLAN)),
    order_by=[_STREAM_ID],
)
_OWNER_AND_SUMS: list[Any] = [Budget.id, Budget.person_id, Budget.currency, Budget.ledger_sums]
_SINCE_ACCOUNT = LedgerEntry.account.label("since_account")
_SUMS_SINCE: list[Any] = [_SINCE_ACCOUNT, func.sum(LedgerEntry.amount_pence).label("since_total")]


class Posting(NamedTuple):
    """One posting of the month, as a statement lists it."""

    transaction_id: str
    occurred_at: datetime
    kind: str
    account: str
    amount_pence: int
    funding_stream_id: str
    plan_line_id: str | None
    cause_type: str
    cause_id: str | None
    note: str | None
    id: str


_POSTING_COLUMNS: list[Any] = [getattr(LedgerEntry, name) for name in Posting._fields]
# A statement's owner and the budget's running sums now; the month's postings in order;
# and the sums per account of what was posted after the month. The opening balance is
# the running sums less those two, so the work depends on how recent the month is, not
# on how long the budget's history is. One statement (app/sql_parts.py), one snapshot.
_OWNER_POSTINGS_AND_SUMS_SINCE = parts_union(
    (_OWNER_AND_SUMS, lambda part: part.where(Budget.id == bindparam("budget_id"))),
    (
        _POSTING_COLUMNS,
        lambda part: part.where(
            LedgerEntry.budget_id == bindparam("budget_id"),
            LedgerEntry.occurred_at >= bindparam("start"),
            LedgerEntry.occurred_at < bindparam("end"),
        ),
    ),
    (
        _SUMS_SINCE,
        lambda part: part.where(
            LedgerEntry.budget_id == bindparam("budget_id"),
            LedgerEntry.occurred_at >= bindparam("end"),
        ).group_by(LedgerEntry.account),
    ),
    order_by=[LedgerEntry.occurred_at, LedgerEntry.id],
)


def _require_visible(session: Session, actor: Actor, budget_rows: list[tuple[Any, ...]]) -> None:
    """404 unless there is a budget row (id, person id, ...) the actor may see (as
    `visible_budget`)."""
    if not budget_rows or not can_see_person(session, actor, budget_rows[0][1]):
        raise NotFound("No such budget.")


def visible_budget_with_stream_sums(
    session: Session, *, budget_id: str, actor: Actor
) -> tuple[BudgetFacts, StreamSums, list[tuple[Any, ...]]]:
    """The budget's facts, its ledger's sums per stream and account, and its approved
    plan's lines (as rows of `ledger.LINE_TOTALS`), if the actor may see it."""
    budget_rows, lines = _BUDGET_SUMS_AND_LINES.read(session, {"budget_id": budget_id})
    _require_visible(session, actor, budget_rows)
    streams = {
        stream_id: StreamFacts(stream_id, kind)
        for *_, stream_id, kind in budget_rows
        if stream_id is not None
    }
    kept = budget_rows[0][7] or {}
    line_rows = []
    for line_id, lineage_id, planned in lines:
        on_line = lineage_sums_of(kept, lineage_id)
        committed, spent = on_line.get("committed", 0), on_line.get("spent", 0)
        line_rows.append((line_id, lineage_id, planned, committed, spent))
    return budget_facts(budget_rows[0], streams.values()), stream_sums_of(kept), line_rows


def visible_budget_month(
    session: Session, *, budget_id: str, actor: Actor, start: datetime, end: datetime
) -> tuple[BudgetOwner, dict[str, int], list[Posting]]:
    """Whose budget it is, its ledger's sums per account of everything posted before
    `start`, and the postings from `start` to `end` in order, if the actor may see it."""
    owner_rows, postings, sums_since = _OWNER_POSTINGS_AND_SUMS_SINCE.read(
        session, {"budget_id": budget_id, "start": start, "end": end}
    )
    _require_visible(session, actor, owner_rows)
    budget_id, person_id, currency, kept = owner_rows[0]
    sums = defaultdict(int, account_sums_of(kept or {}))
    for account, total in sums_since:
        sums[account] -= int(total)
    month = [Posting(*posting) for posting in postings]
    for posting in month:
        sums[posting.account] -= posting.amount_pence
    return BudgetOwner(budget_id, person_id, currency), dict(sums), month
