"""Payment history: what a budget paid, and what a provider was paid and paid out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_organisation_access
from auth.actor import Actor
from budgets.funding.service import visible_budget
from budgets.payments.models import Payment, ProviderPayout


def list_provider_payments(
    session: Session,
    *,
    organisation_id: str,
    actor: Actor,
    page: PageRequest,
    status: str | None = None,
) -> Page[Any]:
    """Payments to your organisation, newest first (optionally only one status)."""
    require_organisation_access(actor, organisation_id)
    stmt = select(Payment).where(Payment.organisation_id == organisation_id)
    if status is not None:
        stmt = stmt.where(Payment.status == status)
    result = keyset_page(
        session,
        stmt,
        keys=[Payment.id],
        page=page,
        scope=f"provider-payments:{organisation_id}:{status}",
        descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="payment.list",
        record_type="provider_organisation",
        record_id=organisation_id,
        details={"count": len(result.items)},
    )
    session.commit()
    return result


def list_budget_payments(
    session: Session, *, budget_id: str, actor: Actor, page: PageRequest
) -> Page[Any]:
    """Payments made from a budget, newest first, for the person and those who help them."""
    budget = visible_budget(session, budget_id=budget_id, actor=actor)
    result = keyset_page(
        session,
        select(Payment).where(Payment.budget_id == budget_id),
        keys=[Payment.id],
        page=page,
        scope=f"budget-payments:{budget_id}",
        descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="payment.list",
        record_type="budget",
        record_id=budget_id,
        subject_person_id=budget.person_id,
        details={"count": len(result.items)},
    )
    session.commit()
    return result


def list_provider_payouts(
    session: Session, *, organisation_id: str, actor: Actor, page: PageRequest
) -> Page[Any]:
    """Payouts from your Stripe balance to your bank, newest first."""
    require_organisation_access(actor, organisation_id)
    return keyset_page(
        session,
        select(ProviderPayout).where(ProviderPayout.organisation_id == organisation_id),
        keys=[ProviderPayout.id],
        page=page,
        scope=f"provider-payouts:{organisation_id}",
        descending=True,
    )
