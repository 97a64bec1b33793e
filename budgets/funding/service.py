"""Budgets: allocation by the commissioner, reading, balances and settings; local policy.
Changes after allocation live in `budgets.funding.changes`. Each public function is one use
case and commits once."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, joinedload

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Conflict, InvalidState, NotFound, ValidationFailed
from app.notifications import notify
from app.pagination import PageRequest
from app.sync import SyncPage, Tombstone, sync_page
from app.versioning import check_if_match
from auth.access import can_see_person, require_person_access, require_role, visible_people_clause
from auth.actor import Actor
from auth.models import Person, User
from auth.roles import Role
from budgets.funding.facts import BudgetFacts
from budgets.funding.models import (
    DEFAULT_POLICY,
    Budget,
    FundingPolicy,
    FundingStream,
)
from budgets.funding.reading import visible_budget_with_stream_sums
from budgets.ledger import service as ledger
from budgets.people import person_user_ids
from budgets.plans.models import CarePlan


def policy_for(session: Session, *, commissioner_id: str, on: date) -> dict[str, Any]:
    """The commissioner's funding rules in force on a day (defaults filled in)."""
    policy = session.scalars(
        select(FundingPolicy)
        .where(
            FundingPolicy.commissioner_id == commissioner_id,
            FundingPolicy.effective_from <= on,
        )
        .order_by(FundingPolicy.effective_from.desc())
    ).first()
    return {**DEFAULT_POLICY, **(policy.rules if policy else {})}


# Built once: building a loader option costs more than the rest of the lookup.
_WITH_STREAMS = [joinedload(Budget.streams)]


def visible_budget(session: Session, *, budget_id: str, actor: Actor) -> Budget:
    """The budget, if the actor may see it; otherwise 404. Its (two or three) funding
    streams come in the same query."""
    budget = session.get(Budget, budget_id, options=_WITH_STREAMS)
    if budget is None or not can_see_person(session, actor, budget.person_id):
        raise NotFound("No such budget.")
    return budget


def audit_budget(
    session: Session, actor: Actor, action: str, budget: Budget | BudgetFacts, **details: Any
) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        record_type="budget",
        record_id=budget.id,
        subject_person_id=budget.person_id,
        details=details or None,
    )


def _check_broker(session: Session, broker_id: str, commissioner_id: str) -> None:
    broker = session.get(User, broker_id)
    if (
        broker is None
        or Role.BROKER not in broker.roles
        or broker.commissioner_id != commissioner_id
    ):
        raise ValidationFailed({"broker_id": ["Not a support broker of this commissioner."]})


def allocate_budget(
    session: Session,
    *,
    person_id: str,
    period_start: date,
    period_end: date,
    streams: list[dict[str, Any]],
    holding_options: list[str],
    release_schedule: str,
    broker_id: str | None,
    actor: Actor,
) -> Budget:
    """Allocate a budget to a person: period, funded streams, how it is held, broker."""
    require_role(actor, Role.ADMIN)
    person = require_person_access(session, actor, person_id)
    if period_end <= period_start:
        raise ValidationFailed({"period_end": ["Must be after period_start."]})
    kinds = [stream["kind"] for stream in streams]
    if len(set(kinds)) != len(kinds):
        raise ValidationFailed({"streams": ["Each funding stream kind may appear once."]})
    overlapping = session.scalar(
        select(Budget.id).where(
            Budget.person_id == person.id,
            Budget.status != "ended",
            Budget.period_start <= period_end,
            Budget.period_end >= period_start,
        )
    )
    if overlapping:
        raise Conflict("This person already has a budget for part of that period.")
    broker_id = broker_id or person.broker_id
    if broker_id:
        _check_broker(session, broker_id, person.commissioner_id)
        person.broker_id = broker_id
    budget = Budget(
        person_id=person.id,
        commissioner_id=person.commissioner_id,
        broker_id=broker_id,
        period_start=period_start,
        period_end=period_end,
        holding_options=sorted(set(holding_options)),
        release_schedule=release_schedule,
        created_by_user_id=actor.user_id,
    )
    session.add(budget)
    session.flush()
    for stream in streams:
        session.add(
            FundingStream(
                budget_id=budget.id,
                kind=stream["kind"],
                excluded_categories=sorted(set(stream.get("excluded_categories") or [])),
            )
        )
    session.flush()
    session.refresh(budget)
    amounts = {stream["kind"]: stream["amount_pence"] for stream in streams}
    for stream_row in budget.streams:
        ledger.allocate_funds(
            session,
            budget=budget,
            funding_stream_id=stream_row.id,
            amount_pence=amounts[stream_row.kind],
            cause_type="budget",
            cause_id=budget.id,
            actor=actor,
        )
    audit_budget(session, actor, "budget.allocate", budget, total_pence=sum(amounts.values()))
    notify(
        session,
        user_ids=person_user_ids(session, person.id),
        kind="budget.allocated",
        title="Your personal health budget is ready",
        body="You can see how much you have and start your care and support plan.",
        record_type="budget",
        record_id=budget.id,
    )
    session.commit()
    return budget


def update_budget(
    session: Session,
    *,
    budget_id: str,
    actor: Actor,
    if_match: list[str] | None,
    broker_id: str | None = None,
    holding_options: list[str] | None = None,
    release_schedule: str | None = None,
) -> Budget:
    """Change the broker, how the money is held, or the release schedule (If-Match)."""
    require_role(actor, Role.ADMIN)
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    budget = ledger.lock_budget(session, budget.id)
    check_if_match(if_match, budget.id, budget.version)
    if budget.status == "ended":
        raise InvalidState("An ended budget cannot be changed.")
    if broker_id is not None:
        _check_broker(session, broker_id, budget.commissioner_id)
        budget.broker_id = broker_id
        person = session.get(Person, budget.person_id)
        assert person is not None
        person.broker_id = broker_id
    if holding_options is not None:
        budget.holding_options = sorted(set(holding_options))
    if release_schedule is not None:
        budget.release_schedule = release_schedule
    budget.version += 1
    audit_budget(
        session,
        actor,
        "budget.update",
        budget,
        broker_id=budget.broker_id,
        holding_options=budget.holding_options,
        release_schedule=budget.release_schedule,
    )
    session.commit()
    return budget


def get_budget(session: Session, *, budget_id: str, actor: Actor) -> Budget:
    """One budget the actor may see (the read is audited)."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    audit_budget(session, actor, "budget.read", budget)
    session.commit()
    return budget


def list_budgets(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    person_id: str | None = None,
    updated_since: datetime | None = None,
    sync_overlap_seconds: int = 0,
) -> SyncPage[Budget]:
    """The budgets the actor may see, newest first, optionally for one person; with
    `updated_since` only those changed since then, oldest change first."""
    stmt = select(Budget).where(visible_people_clause(actor, Budget.person_id))
    if person_id:
        stmt = stmt.where(Budget.person_id == person_id)
    result = sync_page(
        session,
        stmt,
        updated_at=Budget.updated_at,
        id=Budget.id,
        page=page,
        scope=f"budgets:{person_id}",
        updated_since=updated_since,
        record_type="budget",
        # Budgets are never deleted (ended instead); listed for completeness.
        deleted_visible=visible_people_clause(
            actor, cast("ColumnElement[str]", Tombstone.owner_id)
        ),
        overlap_seconds=sync_overlap_seconds,
        full_sync_keys=[Budget.id],
        full_sync_descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="budget.list",
        record_type="budget",
        record_id=None,
        details={"ids": [budget.id for budget in result.items]},
    )
    session.commit()
    return result


def budget_balances(
    session: Session, *, budget_id: str, actor: Actor, plan_id: str | None = None
) -> tuple[BudgetFacts, ledger.BudgetBalances]:
    """Allocated, released, committed, spent and available: overall, per stream, and per
    line of the approved plan (or of the plan version asked for)."""
    budget, sums, approved_lines = visible_budget_with_stream_sums(
        session, budget_id=budget_id, actor=actor
    )
    if plan_id is not None and not session.scalar(
        select(CarePlan.id).where(CarePlan.id == plan_id, CarePlan.budget_id == budget.id)
    ):
        raise NotFound("No such plan on this budget.")
    sums = ledger.sums_after_due_releases(
        session, budget=budget, today=utcnow().date(), actor=None, locked=False, sums=sums
    )
    figures = ledger.balances(
        session,
        budget_id=budget.id,
        plan_id=plan_id,
        sums=sums,
        stream_ids=[stream.id for stream in budget.streams],
        line_rows=approved_lines if plan_id is None else None,
    )
    audit_budget(session, actor, "budget.balances.read", budget)
    session.commit()
    return budget, figures
