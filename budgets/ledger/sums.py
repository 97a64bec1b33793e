"""A budget's running ledger sums, kept on its row (`budgets.ledger_sums`).

The postings stay the record. Every posting adds its legs to these sums in the same
transaction, under the budget's lock (budgets/ledger/posting.py), so the two always agree;
tests/budgets/test_ledger_sums.py checks each kind of posting against the ledger.

What they save:
- a money check reads them in the statement that takes the budget's lock, instead of
  summing the budget's postings in another statement after it;
- a balance read reads one row, however long the ledger grows.

Why a locked read of them is current: every writer of a budget's money holds the budget
row's lock and changes this column before it commits. On PostgreSQL, a `SELECT ... FOR NO
KEY UPDATE` that waited for that lock returns the row as its holder committed it (the
newest version of a row it locks), not as the statement's snapshot saw it. SQLite
serialises writers. A read without the lock may be a moment old, as a read of the
postings may be.

Shape: {"streams": {stream id: {account: pence}}, "lines": {plan line lineage id:
{account: pence}}}; an account that is missing is at zero. A line's sums are those of
every version of the line (its lineage), as a line's balance counts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, event, func, select
from sqlalchemy.orm import Session

from app.direct_sql import DirectStatement, RowUpdate
from app.stored_records import insert_or_hold_rows
from budgets.funding.models import Budget
from budgets.ledger.models import LedgerEntry
from budgets.plans.models import PlanLine

LedgerSums = dict[str, dict[str, dict[str, int]]]
AccountSums = dict[str, int]

STREAMS = "streams"
LINES = "lines"

# session.info: budget id -> its sums as this transaction has them (read under the lock,
# plus what it has posted since).
_KNOWN = "ledger_sums"
_BUDGET_SUMS = RowUpdate(Budget.__table__, "id", ("ledger_sums",))  # type: ignore[arg-type]
_READ_SUMS = DirectStatement(select(Budget.ledger_sums).where(Budget.id == bindparam("budget_id")))
_SUMS_PER_STREAM = select(
    LedgerEntry.budget_id,
    LedgerEntry.funding_stream_id,
    LedgerEntry.account,
    func.sum(LedgerEntry.amount_pence),
).group_by(LedgerEntry.budget_id, LedgerEntry.funding_stream_id, LedgerEntry.account)
_SUMS_PER_LINEAGE = (
    select(
        LedgerEntry.budget_id,
        PlanLine.lineage_id,
        LedgerEntry.account,
        func.sum(LedgerEntry.amount_pence),
    )
    .join(PlanLine, PlanLine.id == LedgerEntry.plan_line_id)
    .group_by(LedgerEntry.budget_id, PlanLine.lineage_id, LedgerEntry.account)
)


def note_locked_sums(session: Session, budget_id: str, sums: LedgerSums | None) -> None:
    """Remember the sums read with the budget's lock, for this transaction's checks and
    postings."""
    session.info.setdefault(_KNOWN, {})[budget_id] = sums or {}


def locked_sums(session: Session, budget_id: str) -> LedgerSums:
    """The budget's sums as this transaction has them; the caller holds the budget's lock."""
    known = session.info.get(_KNOWN, {}).get(budget_id)
    if known is None:
        row = _READ_SUMS.first(session, {"budget_id": budget_id})
        known = (row[0] if row is not None else None) or {}
        note_locked_sums(session, budget_id, known)
    return known


def stream_sums_of(sums: LedgerSums) -> dict[str, AccountSums]:
    """Per funding stream and account, as `balances.stream_sums` reads them."""
    return sums.get(STREAMS, {})


def account_sums_of(sums: LedgerSums) -> AccountSums:
    """Per account, over every funding stream."""
    total: AccountSums = {}
    for figures in stream_sums_of(sums).values():
        total = _added(total, figures.items())
    return total


def lineage_sums_of(sums: LedgerSums, lineage_id: str) -> AccountSums:
    """Per account, for every version of a plan line."""
    return sums.get(LINES, {}).get(lineage_id, {})


def _added(figures: AccountSums, legs: Iterable[tuple[str, int]]) -> AccountSums:
    added = dict(figures)
    for account, amount in legs:
        added[account] = added.get(account, 0) + amount
    return added


def add_postings(
    session: Session,
    *,
    budget_id: str,
    funding_stream_id: str,
    lineage_id: str | None,
    legs: list[tuple[str, str | None, int]],
) -> None:
    """Add one transaction's legs (account, plan line id, amount) to the budget's sums;
    the change is held to go with the postings (`WorkSession.hold_rows`)."""
    sums = locked_sums(session, budget_id)
    streams = dict(stream_sums_of(sums))
    streams[funding_stream_id] = _added(
        streams.get(funding_stream_id, {}), ((account, amount) for account, _, amount in legs)
    )
    lines = dict(sums.get(LINES, {}))
    on_line = [(account, amount) for account, line_id, amount in legs if line_id is not None]
    if on_line:
        if lineage_id is None:
            raise AssertionError("a posting on a plan line needs the line's lineage")
        lines[lineage_id] = _added(lines.get(lineage_id, {}), on_line)
    updated: LedgerSums = {STREAMS: streams, LINES: lines}
    session.info[_KNOWN][budget_id] = updated
    insert_or_hold_rows(session, _BUDGET_SUMS, [{"id": budget_id, "ledger_sums": updated}])


def sums_from_postings(session: Session | Connection) -> dict[str, LedgerSums]:
    """Every budget's sums as its postings add up (for reconciliation, not for requests)."""
    sums: dict[str, LedgerSums] = defaultdict(lambda: {STREAMS: {}, LINES: {}})
    for part, query in ((STREAMS, _SUMS_PER_STREAM), (LINES, _SUMS_PER_LINEAGE)):
        for budget_id, holder_id, account, total in session.execute(query):
            sums[budget_id][part].setdefault(holder_id, {})[account] = int(total)
    return dict(sums)


def disagreeing_budgets(session: Session | Connection) -> list[str]:
    """Budgets whose running sums differ from what their postings add up to."""
    expected = sums_from_postings(session)
    kept = session.execute(select(Budget.id, Budget.ledger_sums)).all()
    empty: LedgerSums = {STREAMS: {}, LINES: {}}
    return sorted(
        budget_id
        for budget_id, sums in kept
        if {STREAMS: {}, LINES: {}, **(sums or {})} != expected.get(budget_id, empty)
    )


@event.listens_for(Session, "after_transaction_end")
def _forget_sums(session: Session, _transaction: Any) -> None:
    """What a transaction knew goes with it: the next one reads the sums under its own
    lock (and a savepoint rolled back may have taken some of them away)."""
    session.info.pop(_KNOWN, None)
