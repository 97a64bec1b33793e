"""What a read of a budget's money needs to know of the budget, as one plain row per stream.

Balances and statements are among the person's main screens; they need the budget's
owner, status, currency and release terms and its streams' ids and kinds, not ORM objects
with change tracking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.domain_errors import NotFound
from auth.access import can_see_person
from auth.actor import Actor
from budgets.funding.models import Budget, FundingStream


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


_BUDGET_WITH_STREAMS = (
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
    )
    .outerjoin(FundingStream, FundingStream.budget_id == Budget.id)
    .where(Budget.id == bindparam("budget_id"))
    .order_by(FundingStream.id)
)


def visible_budget_facts(session: Session, *, budget_id: str, actor: Actor) -> BudgetFacts:
    """The budget's facts, if the actor may see it; otherwise 404 (as `visible_budget`)."""
    rows = session.connection().execute(_BUDGET_WITH_STREAMS, {"budget_id": budget_id}).all()
    if not rows or not can_see_person(session, actor, rows[0].person_id):
        raise NotFound("No such budget.")
    first = rows[0]
    return BudgetFacts(
        id=first.id,
        person_id=first.person_id,
        status=first.status,
        release_schedule=first.release_schedule,
        period_start=first.period_start,
        period_end=first.period_end,
        currency=first.currency,
        streams=tuple(
            StreamFacts(row.stream_id, row.kind) for row in rows if row.stream_id is not None
        ),
    )
