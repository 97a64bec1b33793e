"""POST /v1/webhooks/stripe: verified on the raw body, applied once, order does not matter."""

from __future__ import annotations

import json

import pytest
import stripe
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.notifications import Notification
from budgets.payments.models import ProviderPayout, ProviderStripeAccount, StripeEvent
from tests.budgets.payments.conftest import CONNECT_WEBHOOK_SECRET, deliver, signed_webhook
from tests.builders import build_provider, build_provider_staff
from tests.fake_stripe import FakeStripe


@pytest.fixture
def onboarded(db_session: Session, fake_stripe: FakeStripe) -> ProviderStripeAccount:
    """An organisation with a Stripe account that has not finished onboarding."""
    organisation = build_provider(db_session)
    build_provider_staff(db_session, organisation=organisation)
    remote = fake_stripe.create_account_directly(organisation_id=organisation.id)
    account = ProviderStripeAccount(organisation_id=organisation.id, stripe_account_id=remote["id"])
    db_session.add(account)
    db_session.flush()
    return account


def events_stored(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(StripeEvent)) or 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": "t=1,v1=deadbeef"},
        {"Stripe-Signature": "garbage"},
    ],
)
def test_missing_or_bad_signature_is_400_and_changes_nothing(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
    headers: dict[str, str],
) -> None:
    event = fake_stripe.complete_onboarding(onboarded.stripe_account_id)
    response = client.post(
        "/v1/webhooks/stripe",
        data=json.dumps(event),
        headers={"Content-Type": "application/json", **headers},
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert events_stored(db_session) == 0
    db_session.refresh(onboarded)
    assert not onboarded.payouts_enabled


def test_tampered_body_and_stale_or_foreign_signatures_are_refused(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
) -> None:
    event = fake_stripe.complete_onboarding(onboarded.stripe_account_id)
    body, headers = signed_webhook(event)
    tampered = body.replace('"payouts_enabled": true', '"payouts_enabled": false')
    assert client.post("/v1/webhooks/stripe", data=tampered, headers=headers).status_code == 400
    assert deliver(client, event, timestamp=1_700_000_000).status_code == 400
    assert deliver(client, event, secret="whsec_someone_else").status_code == 400
    assert events_stored(db_session) == 0
    # The Connect endpoint's secret is accepted too.
    assert deliver(client, event, secret=CONNECT_WEBHOOK_SECRET).status_code == 200


def test_a_replayed_event_is_acknowledged_and_changes_nothing_twice(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
) -> None:
    event = fake_stripe.complete_onboarding(onboarded.stripe_account_id)
    assert deliver(client, event).json["outcome"] == "applied"
    fetches = len(fake_stripe.calls("GET", "/v1/accounts/"))
    replay = deliver(client, event)
    assert replay.status_code == 200 and replay.json["outcome"] == "duplicate"
    assert len(fake_stripe.calls("GET", "/v1/accounts/")) == fetches
    assert events_stored(db_session) == 1
    ready_notices = db_session.scalar(
        select(func.count()).where(Notification.kind == "payments.account_ready")
    )
    assert ready_notices == 1


def test_reordered_account_events_end_in_stripes_latest_state(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
) -> None:
    account_id = onboarded.stripe_account_id
    restricted = fake_stripe.restrict_account(account_id, due=["external_account"])
    completed = fake_stripe.complete_onboarding(account_id)
    # Delivered newest first: the older hint must not drag the state back.
    assert deliver(client, completed).json["outcome"] == "applied"
    assert deliver(client, restricted).json["outcome"] == "unchanged"
    db_session.refresh(onboarded)
    assert onboarded.is_ready
    assert events_stored(db_session) == 2


def test_refetch_failure_stores_nothing_and_redelivery_applies(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
) -> None:
    event = fake_stripe.complete_onboarding(onboarded.stripe_account_id)
    fake_stripe.inject("server_error", method="GET", path="/v1/accounts/")
    failed = deliver(client, event)
    assert failed.status_code == 503
    assert events_stored(db_session) == 0
    assert deliver(client, event).json["outcome"] == "applied"


def test_payouts_move_forward_only_and_failures_are_told(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
) -> None:
    account_id = onboarded.stripe_account_id
    paid = fake_stripe.pay_out(account_id, 1200)
    assert deliver(client, paid).json["outcome"] == "applied"
    payout = db_session.scalar(select(ProviderPayout))
    assert payout is not None and payout.status == "paid" and payout.amount_pence == 1200
    assert payout.organisation_id == onboarded.organisation_id

    # The bank sends the money back later: Stripe marks the payout failed.
    payout_id = paid["data"]["object"]["id"]
    fake_stripe.payouts[payout_id].update(status="failed", failure_code="account_closed")
    failed = dict(paid, id="evt_failed_later", type="payout.failed")
    assert deliver(client, failed).json["outcome"] == "applied"
    db_session.refresh(payout)
    assert payout.status == "failed" and payout.failure_code == "account_closed"
    # A late copy of the older "paid" hint does not move it back.
    late = dict(paid, id="evt_paid_late")
    assert deliver(client, late).json["outcome"] == "unchanged"
    db_session.refresh(payout)
    assert payout.status == "failed"
    told = db_session.scalar(
        select(func.count()).where(Notification.kind == "payments.payout_failed")
    )
    assert told == 1


def test_connect_events_for_unknown_accounts_and_other_types_are_acknowledged(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    stranger = fake_stripe.create_account_directly()
    event = fake_stripe.complete_onboarding(stranger["id"])
    assert deliver(client, event).json["outcome"] == "unknown-account"
    other = {
        "id": "evt_other",
        "object": "event",
        "type": "customer.created",
        "created": 1,
        "data": {"object": {"id": "cus_1"}},
    }
    assert deliver(client, other).json["outcome"] == "ignored"
    assert events_stored(db_session) == 2


def test_the_signature_helper_is_the_sdks() -> None:
    header = stripe.WebhookSignature.generate_signature_header("{}", "whsec_x", 1)
    assert header.startswith("t=1,v1=")


def test_a_provider_disconnecting_us_stops_payments_at_once(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    onboarded: ProviderStripeAccount,
) -> None:
    deliver(client, fake_stripe.complete_onboarding(onboarded.stripe_account_id))
    event = {
        "id": "evt_deauthorized",
        "object": "event",
        "type": "account.application.deauthorized",
        "account": onboarded.stripe_account_id,
        "created": fake_stripe.now(),
        "data": {"object": {"id": "ca_platform", "object": "application"}},
    }
    assert deliver(client, event).json["outcome"] == "applied"
    db_session.refresh(onboarded)
    assert not onboarded.is_ready
    assert onboarded.disabled_reason == "platform_access_revoked"
    told = db_session.scalar(
        select(func.count()).where(Notification.kind == "payments.account_restricted")
    )
    assert told == 1
    assert deliver(client, event).json["outcome"] == "duplicate"
