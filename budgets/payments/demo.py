"""Demo data for payments: the demo provider is onboarded with Stripe and has had a payout."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from budgets.payments.models import ProviderPayout, ProviderStripeAccount
from budgets.providers.models import ProviderOrganisation

DEMO_PROVIDER = "Bright Days Care"
DEMO_STRIPE_ACCOUNT = "acct_demo_brightdays"


def seed_payments(session: Session) -> None:
    """Give the demo provider a ready Stripe account and one payout (idempotent)."""
    organisation_id = session.scalar(
        select(ProviderOrganisation.id).where(ProviderOrganisation.name == DEMO_PROVIDER)
    )
    if organisation_id is None:
        return
    if (
        session.scalar(
            select(ProviderStripeAccount.id).where(
                ProviderStripeAccount.organisation_id == organisation_id
            )
        )
        is None
    ):
        session.add(
            ProviderStripeAccount(
                organisation_id=organisation_id,
                stripe_account_id=DEMO_STRIPE_ACCOUNT,
                details_submitted=True,
                charges_enabled=True,
                payouts_enabled=True,
                transfers_capability="active",
                requirements_due=[],
                synced_at=utcnow(),
            )
        )
    if (
        session.scalar(
            select(ProviderPayout.id).where(ProviderPayout.stripe_payout_id == "po_demo_first")
        )
        is None
    ):
        session.add(
            ProviderPayout(
                stripe_payout_id="po_demo_first",
                organisation_id=organisation_id,
                amount_pence=48_000,
                currency="GBP",
                status="paid",
            )
        )
    session.flush()
