"""What a broker needs to act on across their caseload (the people whose broker they are)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, or_, select
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
from budgets.plans.models import CarePlan


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


def _alert_for(session: Session, budget: Budget, today: date) -> SpendingAlert:
    policy = policy_for(session, commissioner_id=budget.commissioner_id, on=today)
    figures = ledger.balances(session, budget_id=budget.id).overall
    plan = session.scalars(
        select(CarePlan).where(CarePlan.budget_id == budget.id, CarePlan.status == "approved")
    ).first()
    plan_total = plan.total_pence if plan else 0
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
    found = [_alert_for(session, budget, today) for budget in budgets.items]
    flagged = [alert for alert in found if alert.alerts]
    _audit_list(
        session, actor, "caseload.spending_alerts", "budget", [a.budget_id for a in flagged]
    )
    return Page(items=flagged, next_cursor=budgets.next_cursor)
