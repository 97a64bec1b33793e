"""The Stripe gateway, through the real SDK, against the fake Stripe: Connect, idempotency,
the Stripe-Account header and injected faults."""

from __future__ import annotations

import pytest
import stripe

from budgets.payments.gateway import (
    GatewayUnavailable,
    PaymentRefused,
    StripeGateway,
    WebhookSignatureInvalid,
)
from tests.budgets.payments.conftest import WEBHOOK_SECRET, signed_webhook, stripe_settings
from tests.fake_stripe import FakeStripe, FakeStripeServer


@pytest.fixture
def gateway(fake_stripe: FakeStripe, fake_stripe_server: FakeStripeServer) -> StripeGateway:
    return StripeGateway.from_config(stripe_settings(fake_stripe_server.url))


def ready_account(gateway: StripeGateway, fake: FakeStripe) -> str:
    account = gateway.create_account(organisation_id="org-1", email=None, idempotency_key="a-1")
    fake.complete_onboarding(account.id)
    return account.id


def transfer(gateway: StripeGateway, destination: str, key: str, amount: int = 1500):  # type: ignore[no-untyped-def]
    return gateway.create_transfer(
        amount=amount,
        currency="GBP",
        destination=destination,
        transfer_group="budget-1",
        metadata={"claim_id": "c-1"},
        idempotency_key=key,
    )


def test_account_starts_restricted_and_becomes_ready(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    account = gateway.create_account(
        organisation_id="org-1", email="a@b.example", idempotency_key="k"
    )
    assert not account.payouts_enabled
    assert account.requirements_due
    fake_stripe.complete_onboarding(account.id)
    fresh = gateway.retrieve_account(account.id)
    assert fresh.payouts_enabled and fresh.transfers_capability == "active"
    assert fresh.requirements_due == ()
    link = gateway.create_account_link(
        account_id=account.id, refresh_url="https://x.example/r", return_url="https://x.example/d"
    )
    assert link.url.startswith(fake_stripe.base_url) and link.expires_at > 0


def test_same_idempotency_key_replays_and_other_params_are_refused(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    destination = ready_account(gateway, fake_stripe)
    first = transfer(gateway, destination, "pay-1")
    again = transfer(gateway, destination, "pay-1")
    assert again.id == first.id
    assert len(fake_stripe.transfers) == 1
    with pytest.raises(GatewayUnavailable, match="idempotency"):
        transfer(gateway, destination, "pay-1", amount=999)
    assert len(fake_stripe.transfers) == 1


def test_transfer_to_account_without_transfers_is_refused(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    account = gateway.create_account(organisation_id="org-1", email=None, idempotency_key="k")
    with pytest.raises(PaymentRefused) as refused:
        transfer(gateway, account.id, "pay-1")
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    assert fake_stripe.transfers == {}


def test_injected_account_error_is_definitive(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    destination = ready_account(gateway, fake_stripe)
    fake_stripe.inject("account_error", path="/v1/transfers")
    with pytest.raises(PaymentRefused) as refused:
        transfer(gateway, destination, "pay-1")
    assert refused.value.code == "account_invalid"
    assert fake_stripe.transfers == {}


def test_timeout_after_the_transfer_was_made_is_unknown_and_the_retry_replays(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    destination = ready_account(gateway, fake_stripe)
    fake_stripe.inject("timeout_after", path="/v1/transfers", delay=1.0)
    with pytest.raises(GatewayUnavailable):
        transfer(gateway, destination, "pay-1")
    assert len(fake_stripe.transfers) == 1  # it was made; we just never heard
    made = transfer(gateway, destination, "pay-1")
    assert list(fake_stripe.transfers) == [made.id]


@pytest.mark.parametrize("kind", ["server_error", "server_error_after", "drop"])
def test_server_errors_are_unknown_outcomes(
    gateway: StripeGateway, fake_stripe: FakeStripe, kind: str
) -> None:
    destination = ready_account(gateway, fake_stripe)
    fake_stripe.inject(kind, path="/v1/transfers")
    with pytest.raises(GatewayUnavailable):
        transfer(gateway, destination, "pay-1")
    retried = transfer(gateway, destination, "pay-1")
    assert list(fake_stripe.transfers) == [retried.id]


def test_reversals_list_and_balances(gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    destination = ready_account(gateway, fake_stripe)
    platform_before = gateway.platform_balance("GBP")
    made = transfer(gateway, destination, "pay-1", amount=2000)
    assert gateway.platform_balance("GBP") == platform_before - 2000
    reversal = gateway.create_reversal(
        transfer_id=made.id, amount=500, metadata={"refund_id": "r1"}, idempotency_key="rev-1"
    )
    assert reversal.amount == 500
    assert gateway.retrieve_transfer(made.id).amount_reversed == 500
    with pytest.raises(PaymentRefused):
        gateway.create_reversal(
            transfer_id=made.id, amount=5000, metadata={}, idempotency_key="rev-2"
        )
    assert [t.id for t in gateway.list_transfers()] == [made.id]
    assert gateway.platform_balance("GBP") == platform_before - 1500


def test_stripe_account_header_scopes_connected_reads(
    gateway: StripeGateway, fake_stripe: FakeStripe, fake_stripe_server: FakeStripeServer
) -> None:
    destination = ready_account(gateway, fake_stripe)
    transfer(gateway, destination, "pay-1", amount=700)
    client = stripe.StripeClient(
        fake_stripe.api_key, base_addresses={"api": fake_stripe_server.url}
    )
    connected = client.v1.balance.retrieve(options={"stripe_account": destination})
    assert connected["available"][0]["amount"] == 700
    event = fake_stripe.pay_out(destination, 700)
    payout = gateway.retrieve_payout(
        payout_id=event["data"]["object"]["id"], account_id=destination
    )
    assert payout.status == "paid"
    with pytest.raises(PaymentRefused):
        gateway.retrieve_payout(payout_id=payout.id, account_id="acct_other")
    seen = client.v1.events.list(options={"stripe_account": destination})
    assert {e["type"] for e in seen.data} == {"account.updated", "payout.paid"}
    assert fake_stripe.calls("GET", "/v1/balance")[-1]["account"] == destination


def test_wrong_api_key_is_not_a_refusal(
    fake_stripe: FakeStripe, fake_stripe_server: FakeStripeServer
) -> None:
    settings = stripe_settings(fake_stripe_server.url) | {"STRIPE_SECRET_KEY": "sk_test_wrong"}
    with pytest.raises(GatewayUnavailable):
        StripeGateway.from_config(settings).platform_balance("GBP")


def test_webhook_verification(gateway: StripeGateway) -> None:
    event = {"id": "evt_1", "type": "payout.paid", "created": 1, "data": {"object": {"id": "po_1"}}}
    body, headers = signed_webhook(event)
    verified = gateway.verify_webhook(body.encode(), headers["Stripe-Signature"])
    assert (verified.id, verified.object["id"]) == ("evt_1", "po_1")
    with pytest.raises(WebhookSignatureInvalid):
        gateway.verify_webhook(body.encode() + b" ", headers["Stripe-Signature"])
    with pytest.raises(WebhookSignatureInvalid):
        gateway.verify_webhook(body.encode(), None)
    _, stale = signed_webhook(event, secret=WEBHOOK_SECRET, timestamp=1_000_000)
    with pytest.raises(WebhookSignatureInvalid):
        gateway.verify_webhook(body.encode(), stale["Stripe-Signature"])
