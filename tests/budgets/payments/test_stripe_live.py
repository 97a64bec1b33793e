"""The same gateway code against real Stripe test mode (skipped without a key).

Set STRIPE_LIVE_SECRET_KEY to a test-mode secret key (sk_test_...) of a platform with
Connect enabled to run it. It never runs against a live-mode key.
"""

from __future__ import annotations

import os
import uuid

import pytest

from budgets.payments.gateway import StripeGateway

LIVE_KEY = os.environ.get("STRIPE_LIVE_SECRET_KEY", "")

pytestmark = [
    pytest.mark.stripe_live,
    pytest.mark.skipif(not LIVE_KEY, reason="STRIPE_LIVE_SECRET_KEY is not set"),
]


def test_real_stripe_test_mode_speaks_the_same_interface() -> None:
    assert LIVE_KEY.startswith(("sk_test_", "rk_test_")), "only a test-mode key, never live"
    gateway = StripeGateway.from_config(
        {
            "STRIPE_SECRET_KEY": LIVE_KEY,
            "STRIPE_WEBHOOK_SECRET": "whsec_unused",
            "STRIPE_MAX_NETWORK_RETRIES": 2,
        }
    )
    assert gateway.platform_balance("GBP") >= 0
    account = gateway.create_account(
        organisation_id=f"live-test-{uuid.uuid4()}",
        email=None,
        idempotency_key=f"live-test-{uuid.uuid4()}",
    )
    assert account.id.startswith("acct_")
    assert gateway.retrieve_account(account.id).id == account.id
    link = gateway.create_account_link(
        account_id=account.id,
        refresh_url="https://example.com/refresh",
        return_url="https://example.com/return",
    )
    assert link.url.startswith("https://")
