"""Payments tests run the real Stripe SDK against the fake Stripe server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.conftest import make_app
from tests.fake_stripe import FakeStripe, FakeStripeServer

STRIPE_TEST_KEY = "sk_test_fake_key_for_the_suite"
WEBHOOK_SECRET = "whsec_test_suite_secret"
CONNECT_WEBHOOK_SECRET = "whsec_test_suite_connect_secret"
# Short, so a simulated timeout costs the suite little.
CLIENT_TIMEOUT = 0.5


def stripe_settings(base_url: str) -> dict[str, Any]:
    return {
        "STRIPE_SECRET_KEY": STRIPE_TEST_KEY,
        "STRIPE_API_BASE": base_url,
        "STRIPE_WEBHOOK_SECRET": f"{WEBHOOK_SECRET},{CONNECT_WEBHOOK_SECRET}",
        "STRIPE_TIMEOUT_SECONDS": CLIENT_TIMEOUT,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
    }


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripeServer]:
    server = FakeStripeServer(FakeStripe(api_key=STRIPE_TEST_KEY)).start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server: FakeStripeServer) -> Iterator[FakeStripe]:
    fake_stripe_server.fake.reset()
    yield fake_stripe_server.fake
    fake_stripe_server.fake.reset()


@pytest.fixture(scope="session")
def app(engine: Engine, fake_stripe_server: FakeStripeServer) -> Flask:
    """The app of these tests, configured to talk to the fake Stripe."""
    return make_app(engine, **stripe_settings(fake_stripe_server.url))


@pytest.fixture
def committed_app(engine: Engine, fake_stripe_server: FakeStripeServer) -> Iterator[Flask]:
    from tests.conftest import _empty_all_tables

    application = make_app(engine, **stripe_settings(fake_stripe_server.url))
    try:
        yield application
    finally:
        _empty_all_tables(engine)


def signed_webhook(
    event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[str, dict[str, str]]:
    """The body and headers Stripe would send, signed with the SDK's own helper."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    return body, {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}


def deliver(client: FlaskClient, event: dict[str, Any], **kwargs: Any) -> Any:
    """POST the event to our webhook endpoint as Stripe would."""
    body, headers = signed_webhook(event, **kwargs)
    return client.post("/v1/webhooks/stripe", data=body, headers=headers)
