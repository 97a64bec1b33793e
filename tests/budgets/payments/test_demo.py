"""The demo provider is ready to be paid in the demo data, and seeding twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.demo import seed_accounts
from budgets.payments.demo import seed_payments
from budgets.payments.models import ProviderPayout, ProviderStripeAccount


def test_seed_payments_is_idempotent(db_session: Session) -> None:
    for _ in range(2):
        seed_accounts(db_session, docs_redirect_uri="http://127.0.0.1:5000/docs/x")
        seed_payments(db_session)
    accounts = db_session.scalars(select(ProviderStripeAccount)).all()
    assert len(accounts) == 1 and accounts[0].is_ready
    assert db_session.scalar(select(func.count()).select_from(ProviderPayout)) == 1
