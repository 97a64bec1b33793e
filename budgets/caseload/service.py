"""What a broker needs to act on across their caseload (the people whose broker they are)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_role
from auth.actor import Actor
from auth.models import Person
from auth.roles import Role
from budgets.funding.models import Budget
from budgets.funding.service import policy_for
from budgets.ledger import service as ledger
from budgets.plans.models import CarePlan, PlanLine


def _caseload(actor: Actor) -> Select[str]:
    """The ids of the people on this broker's caseload."""
    return select(Person.id).where(Person.broker_id == actor.user_id)


def _audit_list(
    session: Session, actor: Actor, action: str, record_type: str, ids: list[str]
) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        record_type=record_type,
        record_id=None,
        details={"ids": ids},
    )
    session.commit()


def plans_awaiting_decision(session: Session, *, actor: Actor, page: PageRequest) -> Page[CarePlan]:
    """Submitted plans and reconsiderations on the broker's caseload, oldest first."""
    require_role(actor, Role.BROKER)
    result = keyset_page(
        session,
        select(CarePlan).where(
            CarePlan.person_id.in_(_caseload(actor)),
            CarePlan.status.in_(("submitted", "reconsideration_requested")),
        ),
        keys=[CarePlan.submitted_at, CarePlan.id],
        page=page,
        scope="caseload-awaiting",
    )
    _audit_list(
        session, actor, "caseload.plans_awaiting", "care_plan", [p.id for p in result.items]
    )
    return result


def reviews_due(
    session: Session, *, actor: Actor, page: PageRequest, within_days: int
) -> Page[CarePlan]:
    """Approved plans on the caseload with an NHS or council review due soon or overdue."""
    require_role(actor, Role.BROKER)
    horizon = utcnow().date() + timedelta(days=within_days)
    result = keyset_page(
        session,
        select(CarePlan).where(
            CarePlan.person_id.in_(_caseload(actor)),
            CarePlan.status == "approved",
            or_(CarePlan.nhs_review_due_on <= horizon, CarePlan.council_review_due_on <= horizon),
        ),
        keys=[CarePlan.id],
        page=page,
        scope=f"caseload-reviews:{within_days}",
    )
    _audit_list(session, actor, "caseload.reviews_due", "care_plan", [p.id for p in result.items])
    return result


@dataclass(frozen=True)
class SpendingAlert:
    """A budget that is running low, or heavily underspent against its plan."""

    budget_id: str
    person_id: str
    figures: ledger.Balance
    plan_total_pence: int
    expected_spend_to_date_pence: int
    alerts: list[dict[str, str]] = field(default_factory=list)


def _elapsed_share(budget: Budget, today: date) -> float:
    length = (budget.period_end - budget.period_start).days + 1
    elapsed = min(max((today - budget.period_start).days + 1, 0), length)
    return elapsed / length


def _alerts_for(session: Session, budgets: list[Budget], today: date) -> list[SpendingAlert]:
    """Each budget's alerts, in a fixed number of queries whatever the number of budgets."""
    ids = [b.id for b in budgets]
    figures = ledger.overall_balances(session, budget_ids=ids)
    plan_totals: dict[str, int] = (
        {
            budget_id: int(total or 0)
            for budget_id, total in session.execute(
                select(CarePlan.budget_id, func.sum(PlanLine.planned_total_pence))
                .join(PlanLine, PlanLine.plan_id == CarePlan.id)
                .where(CarePlan.budget_id.in_(ids), CarePlan.status == "approved")
                .group_by(CarePlan.budget_id)
            )
        }
        if ids
        else {}
    )
    policies: dict[str, dict[str, Any]] = {}
    alerts = []
    for budget in budgets:
        if budget.commissioner_id not in policies:
            policies[budget.commissioner_id] = policy_for(
                session, commissioner_id=budget.commissioner_id, on=today
            )
        alerts.append(
            _alert_for(
                budget,
                today,
                policy=policies[budget.commissioner_id],
                figures=figures.get(budget.id, ledger.Balance()),
                plan_total=plan_totals.get(budget.id, 0),
            )
        )
    return alerts


def _alert_for(
    budget: Budget,
    today: date,
    *,
    policy: dict[str, Any],
    figures: ledger.Balance,
    plan_total: int,
) -> SpendingAlert:
    expected = int(plan_total * _elapsed_share(budget, today))
    alerts = []
    remaining = figures.allocated - figures.committed - figures.spent
    if figures.allocated and remaining * 100 < figures.allocated * policy["low_balance_percent"]:
        alerts.append(
            {"code": "running-low", "detail": "Less than a small share of the budget is left."}
        )
    if expected and figures.spent * 100 < expected * policy["underspend_percent"]:
        alerts.append(
            {
                "code": "heavily-underspent",
                "detail": "Much less has been spent than the plan expects by now.",
            }
        )
    return SpendingAlert(
        budget_id=budget.id,
        person_id=budget.person_id,
        figures=figures,
        plan_total_pence=plan_total,
        expected_spend_to_date_pence=expected,
        alerts=alerts,
    )


def spending_alerts(session: Session, *, actor: Actor, page: PageRequest) -> Page[SpendingAlert]:
    """Active budgets on the caseload that are running low or heavily underspent.

    Pages walk the caseload's budgets; budgets without an alert are left out, so a page
    may hold fewer items than `limit` while `next_cursor` still leads on.
    """
    require_role(actor, Role.BROKER)
    budgets = keyset_page(
        session,
        select(Budget).where(Budget.person_id.in_(_caseload(actor)), Budget.status == "active"),
        keys=[Budget.id],
        page=page,
        scope="caseload-alerts",
    )
    today = utcnow().date()
    found = _alerts_for(session, list(budgets.items), today)
    flagged = [alert for alert in found if alert.alerts]
    _audit_list(
        session, actor, "caseload.spending_alerts", "budget", [a.budget_id for a in flagged]
    )
    return Page(items=flagged, next_cursor=budgets.next_cursor)
