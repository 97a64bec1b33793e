"""Reading the ledger: a budget's entries, and the monthly statement (JSON or CSV) a person
on a direct payment keeps for audit: opening balances, each transaction, closing balances."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.pagination import Page, PageRequest, keyset_page
from auth.actor import Actor
from budgets.dates import add_months
from budgets.funding.reading import visible_budget_month
from budgets.funding.service import visible_budget
from budgets.ledger.models import LedgerEntry
from budgets.ledger.service import Balance


@dataclass(frozen=True)
class StatementLine:
    """One transaction as a person reads it: what, how much, and available money after."""

    transaction_id: str
    occurred_at: datetime
    kind: str
    amount_pence: int
    funding_stream_id: str
    plan_line_id: str | None
    cause_type: str
    cause_id: str | None
    note: str | None
    available_after_pence: int


@dataclass(frozen=True)
class Statement:
    budget_id: str
    month: str
    currency: str
    opening: Balance
    closing: Balance
    lines: list[StatementLine]


def _figures(sums: dict[str, int]) -> Balance:
    allocated = -sums["commissioner"]
    return Balance(
        allocated=allocated,
        released=allocated - sums["unreleased"],
        committed=sums["committed"],
        spent=sums["spent"],
        available=sums["available"],
    )


def list_entries(
    session: Session, *, budget_id: str, actor: Actor, page: PageRequest
) -> Page[LedgerEntry]:
    """Every posting on a budget, oldest first."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    result = keyset_page(
        session,
        select(LedgerEntry).where(LedgerEntry.budget_id == budget.id),
        keys=[LedgerEntry.id],
        page=page,
        scope=f"ledger:{budget.id}",
    )
    record_audit(
        session,
        actor=actor,
        action="ledger.read",
        record_type="budget",
        record_id=budget.id,
        subject_person_id=budget.person_id,
    )
    session.commit()
    return result


def monthly_statement(
    session: Session, *, budget_id: str, actor: Actor, year: int, month: int
) -> Statement:
    """The statement of one calendar month (UTC) of a budget."""
    start_day = date(year, month, 1)
    start = datetime(year, month, 1, tzinfo=UTC)
    end_day = add_months(start_day, 1)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=UTC)
    # The sums of everything before the month (from the running sums, less what was
    # posted since), then the month's postings.
    budget, opening_sums, postings = visible_budget_month(
        session, budget_id=budget_id, actor=actor, start=start, end=end
    )
    sums: dict[str, int] = defaultdict(int, opening_sums)
    by_transaction: dict[str, list[Any]] = defaultdict(list)
    for entry in postings:
        by_transaction[entry.transaction_id].append(entry)
    opening = _figures(sums)
    lines: list[StatementLine] = []
    for transaction_id, legs in by_transaction.items():
        for leg in legs:
            sums[leg.account] += leg.amount_pence
        first = legs[0]
        lines.append(
            StatementLine(
                transaction_id=transaction_id,
                occurred_at=first.occurred_at,
                kind=first.kind,
                amount_pence=sum(leg.amount_pence for leg in legs if leg.amount_pence > 0),
                funding_stream_id=first.funding_stream_id,
                plan_line_id=next((leg.plan_line_id for leg in legs if leg.plan_line_id), None),
                cause_type=first.cause_type,
                cause_id=first.cause_id,
                note=first.note,
                available_after_pence=sums["available"],
            )
        )
    record_audit(
        session,
        actor=actor,
        action="ledger.statement.read",
        record_type="budget",
        record_id=budget.id,
        subject_person_id=budget.person_id,
        details={"month": f"{year:04d}-{month:02d}"},
    )
    session.commit()
    return Statement(
        budget_id=budget.id,
        month=f"{year:04d}-{month:02d}",
        currency=budget.currency,
        opening=opening,
        closing=_figures(sums),
        lines=lines,
    )


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: an opening row, one row per transaction, a closing row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "date",
            "kind",
            "amount_pence",
            "currency",
            "funding_stream_id",
            "plan_line_id",
            "cause_type",
            "cause_id",
            "note",
            "available_after_pence",
        ]
    )
    writer.writerow(
        [
            statement.month + "-01",
            "opening_balance",
            "",
            statement.currency,
            "",
            "",
            "",
            "",
            "",
            statement.opening.available,
        ]
    )
    for line in statement.lines:
        writer.writerow(
            [
                line.occurred_at.isoformat(),
                line.kind,
                line.amount_pence,
                statement.currency,
                line.funding_stream_id,
                line.plan_line_id or "",
                line.cause_type,
                line.cause_id or "",
                _csv_safe(line.note or ""),
                line.available_after_pence,
            ]
        )
    writer.writerow(
        [
            statement.month,
            "closing_balance",
            "",
            statement.currency,
            "",
            "",
            "",
            "",
            "",
            statement.closing.available,
        ]
    )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    """Stop spreadsheet formula injection from free text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
