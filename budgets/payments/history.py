"""What a provider sees of the money paid to it: payments for its claims and its payouts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_organisation_access
from auth.actor import Actor
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
