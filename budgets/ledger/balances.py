"""Balances from the ledger: sums of postings per account, stream and plan line.

Nothing here writes; `budgets.ledger.service` re-exports `balances` and the figures types
as part of the ledger's contract.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from budgets.funding.models import Budget, FundingStream
from budgets.ledger.models import LedgerEntry
from budgets.ledger.sums import account_sums_of
from budgets.plans.models import CarePlan, PlanLine


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


class LineFigures(Protocol):
    """What a line's balance needs of the line: a `PlanLine`, or a booking's facts."""

    @property
    def id(self) -> str: ...
    @property
    def lineage_id(self) -> str: ...
    @property
    def planned_total_pence(self) -> int: ...


@dataclass(frozen=True)
class BudgetBalances:
    """Balances of a budget overall, per funding stream and per plan line."""

    overall: Balance
    streams: dict[str, Balance] = field(default_factory=dict)
    lines: dict[str, LineBalance] = field(default_factory=dict)


# The budget's postings summed per stream and account (the ledger's own figures; requests
# read the budget's running sums instead, budgets/ledger/sums.py).
_STREAM_SUM_COLUMNS: list[Any] = [
    LedgerEntry.funding_stream_id,
    LedgerEntry.account,
    func.sum(LedgerEntry.amount_pence).label("total"),
]


def _summed_per_stream(stmt: Select[Any]) -> Select[Any]:
    return stmt.where(LedgerEntry.budget_id == bindparam("budget_id")).group_by(
        LedgerEntry.funding_stream_id, LedgerEntry.account
    )


STREAM_SUMS = _summed_per_stream(select(*_STREAM_SUM_COLUMNS))


def stream_sums(session: Session, budget_id: str) -> dict[str, dict[str, int]]:
    rows = session.execute(STREAM_SUMS, {"budget_id": budget_id}).all()
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for stream_id, account, total in rows:
        sums[stream_id][account] = int(total or 0)
    return sums


def overall_balances(session: Session, *, budget_ids: list[str]) -> dict[str, Balance]:
    """Each budget's overall figures from its running sums, in one query (for lists of
    budgets)."""
    if not budget_ids:
        return {}
    rows = session.execute(
        select(Budget.id, Budget.ledger_sums).where(Budget.id.in_(budget_ids))
    ).all()
    overall: dict[str, Balance] = {}
    for budget_id, sums in rows:
        per_account = account_sums_of(sums or {})
        if per_account:
            overall[budget_id] = balance_from(per_account)
    return overall


def balance_from(sums: dict[str, int]) -> Balance:
    allocated = -sums.get("commissioner", 0)
    return Balance(
        allocated=allocated,
        released=allocated - sums.get("unreleased", 0),
        committed=sums.get("committed", 0),
        spent=sums.get("spent", 0),
        available=sums.get("available", 0),
    )


def _lineage_total(account: str) -> Any:
    """What the ledger holds on `account` for every version of the outer plan line."""
    same_lineage = aliased(PlanLine)
    return (
        select(func.coalesce(func.sum(LedgerEntry.amount_pence), 0))
        .join(same_lineage, same_lineage.id == LedgerEntry.plan_line_id)
        .where(same_lineage.lineage_id == PlanLine.lineage_id, LedgerEntry.account == account)
        .correlate(PlanLine)
        .scalar_subquery()
    )


# A plan line with what is committed and spent across its versions (LineBalance's order).
LINE_TOTALS: list[Any] = [
    PlanLine.id,
    PlanLine.lineage_id,
    PlanLine.planned_total_pence,
    _lineage_total("committed").label("committed"),
    _lineage_total("spent").label("spent"),
]
LINES_OF_APPROVED_PLAN = PlanLine.plan_id.in_(
    select(CarePlan.id).where(
        CarePlan.budget_id == bindparam("budget_id"), CarePlan.status == "approved"
    )
)


def _lines_with_totals(which_plan: Any) -> Any:
    return select(*LINE_TOTALS).where(which_plan)


# Built once (balances are read on the person's main screen, a line's on every booking):
# each plan line with what is committed and spent across its versions, in one statement.
_LINE_BY_ID = _lines_with_totals(PlanLine.id == bindparam("line_id"))
_LINES_OF_PLAN = _lines_with_totals(PlanLine.plan_id == bindparam("plan_id"))
_LINES_OF_APPROVED_PLAN = _lines_with_totals(LINES_OF_APPROVED_PLAN)


def _line_balance_from(row: Sequence[Any]) -> LineBalance:
    """A LineBalance from a row of LINE_TOTALS."""
    line_id, lineage_id, planned, committed, spent = row
    return LineBalance(
        plan_line_id=line_id,
        lineage_id=lineage_id,
        planned=planned,
        committed=int(committed),
        spent=int(spent),
    )


def line_balance(session: Session, line: PlanLine) -> LineBalance:
    """What is planned, committed and spent on this line (across plan versions)."""
    return _line_balance_from(session.execute(_LINE_BY_ID, {"line_id": line.id}).one())


def balances(
    session: Session,
    *,
    budget_id: str,
    plan_id: str | None = None,
    sums: dict[str, dict[str, int]] | None = None,
    stream_ids: Iterable[str] | None = None,
    line_rows: Sequence[Sequence[Any]] | None = None,
) -> BudgetBalances:
    """Allocated, released, committed, spent and available from the ledger's postings.

    Per-line figures are for the lines of `plan_id`, or of the budget's approved plan.
    A caller that has just read the budget's `stream_sums` (and its streams) passes them
    in, so a balance read sums the budget's postings once; one that has read the approved
    plan's lines (rows of LINE_TOTALS) passes those.
    """
    by_stream = stream_sums(session, budget_id) if sums is None else sums
    if stream_ids is None:
        stream_ids = session.scalars(
            select(FundingStream.id).where(FundingStream.budget_id == budget_id)
        ).all()
    streams = {stream_id: balance_from(by_stream.get(stream_id, {})) for stream_id in stream_ids}
    overall = Balance(
        allocated=sum(b.allocated for b in streams.values()),
        released=sum(b.released for b in streams.values()),
        committed=sum(b.committed for b in streams.values()),
        spent=sum(b.spent for b in streams.values()),
        available=sum(b.available for b in streams.values()),
    )
    rows = line_rows
    if rows is None:
        rows = session.execute(
            _LINES_OF_PLAN if plan_id is not None else _LINES_OF_APPROVED_PLAN,
            {"plan_id": plan_id} if plan_id is not None else {"budget_id": budget_id},
        ).all()
    line_balances = {row[0]: _line_balance_from(row) for row in rows}
    return BudgetBalances(overall=overall, streams=streams, lines=line_balances)


def line_sums(session: Session, plan_line_id: str) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_pence))
        .where(LedgerEntry.plan_line_id == plan_line_id)
        .group_by(LedgerEntry.account)
    ).all()
    return {account: int(total or 0) for account, total in rows}
