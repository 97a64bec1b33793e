"""Writing to the ledger: locking a budget and adding one balanced transaction."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, undefer

from app.audit import record_audit
from app.db import new_id, utcnow
from app.direct_sql import DirectStatement
from app.domain_errors import NotFound, ValidationFailed
from app.stored_records import insert_or_hold_rows, record_of
from auth.actor import Actor
from budgets.funding.facts import BUDGET_FACT_COLUMNS, BudgetFacts, StreamFacts, budget_facts
from budgets.funding.models import Budget, FundingStream
from budgets.ledger.models import LedgerEntry
from budgets.ledger.sums import add_postings, note_locked_sums


class PostingBudget(Protocol):
    """What a posting needs of its budget: a `Budget`, or its facts."""

    @property
    def id(self) -> str: ...
    @property
    def person_id(self) -> str: ...
    @property
    def currency(self) -> str: ...


# The streams come in the same statement (the release schedule and the checks read them);
# only the budget's row is locked, as FOR ... OF cannot lock an outer join's nullable side.
_LOCK_BUDGET = (
    select(Budget)
    .where(Budget.id == bindparam("budget_id"))
    .options(joinedload(Budget.streams), undefer(Budget.ledger_sums))
    .with_for_update(key_share=True, of=Budget)
)
_RELOAD = {"populate_existing": True}


def lock_budget(session: Session, budget_id: str) -> Budget:
    """The budget, re-read under a row lock held until the caller's transaction ends.

    FOR NO KEY UPDATE (not FOR UPDATE): it still serialises every writer of this budget's
    money, but does not conflict with the KEY SHARE lock that inserting a row referencing
    the budget takes. With FOR UPDATE, two bookings that each inserted their booking row
    (KEY SHARE on the budget) and then locked the budget deadlocked each other.
    """
    budget = (
        session.scalars(_LOCK_BUDGET, {"budget_id": budget_id}, execution_options=_RELOAD)
        .unique()
        .first()
    )
    if budget is None:
        raise NotFound("No such budget.")
    note_locked_sums(session, budget.id, budget.ledger_sums)
    return budget


# As _LOCK_BUDGET, for a caller that needs the budget's facts rather than its record.
_LOCK_BUDGET_FACTS = DirectStatement(
    select(
        *BUDGET_FACT_COLUMNS,
        Budget.ledger_sums,
        FundingStream.id.label("stream_id"),
        FundingStream.kind,
    )
    .outerjoin(FundingStream, FundingStream.budget_id == Budget.id)
    .where(Budget.id == bindparam("budget_id"))
    .order_by(FundingStream.id)
    .with_for_update(key_share=True, of=Budget)
)


def lock_budget_facts(session: Session, budget_id: str) -> BudgetFacts:
    """As `lock_budget`, returning the budget's facts: a booking checks and posts against
    them, and reading them as plain rows costs a fraction of loading the records."""
    session.flush()  # as the ORM's autoflush would: a pending status change counts
    rows = _LOCK_BUDGET_FACTS.rows(session, {"budget_id": budget_id})
    if not rows:
        raise NotFound("No such budget.")
    note_locked_sums(session, budget_id, rows[0].ledger_sums)
    streams = (StreamFacts(row.stream_id, row.kind) for row in rows if row.stream_id)
    return budget_facts(rows[0], streams)


def post_transaction(
    session: Session,
    *,
    budget: PostingBudget,
    funding_stream_id: str,
    kind: str,
    legs: list[tuple[str, str | None, int]],
    cause_type: str,
    cause_id: str | None,
    actor: Actor | None,
    note: str | None,
    lineage_id: str | None = None,
) -> list[LedgerEntry]:
    """Add one balanced transaction: `legs` are (account, plan line id, signed amount);
    legs on a plan line need the line's `lineage_id`. The caller holds the budget's lock
    (`lock_budget`), which keeps the budget's running sums (budgets/ledger/sums.py)."""
    if sum(amount for _, _, amount in legs) != 0:
        raise AssertionError("a ledger transaction must sum to zero")
    transaction_id = new_id()
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "transaction_id": transaction_id,
            "budget_id": budget.id,
            "funding_stream_id": funding_stream_id,
            "plan_line_id": line_id,
            "account": account,
            "kind": kind,
            "amount_pence": amount,
            "currency": budget.currency,
            "cause_type": cause_type,
            "cause_id": cause_id,
            "actor_user_id": actor.user_id if actor else None,
            "actor_client_id": actor.client_id if actor else None,
            "on_behalf_of_person_id": budget.person_id,
            "note": note,
            "occurred_at": now,
        }
        for account, line_id, amount in legs
    ]
    # Postings are never changed once written, so they are inserted as plain rows
    # (without the ORM's unit of work) and returned as detached records. Held to the
    # session's next statement, they go with the use case's other last writes; whatever
    # reads the ledger next is that statement, or comes after it.
    insert_or_hold_rows(session, LedgerEntry.__table__, rows)  # type: ignore[arg-type]
    add_postings(
        session,
        budget_id=budget.id,
        funding_stream_id=funding_stream_id,
        lineage_id=lineage_id,
        legs=legs,
    )
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
    return [record_of(LedgerEntry, row) for row in rows]


def require_positive(amount_pence: int) -> None:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool) or amount_pence <= 0:
        raise ValidationFailed({"amount_pence": ["Must be a whole number of pence above zero."]})
