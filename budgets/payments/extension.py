"""The app's payment gateway: built once from the STRIPE_* settings, replaceable in tests.

Without STRIPE_SECRET_KEY the app still runs: payment endpoints check access first and
then answer 503, because the stand-in gateway refuses every Stripe operation.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, current_app

from budgets.payments.gateway import (
    GatewayUnavailable,
    PaymentGateway,
    PaymentsNotConfigured,
    StripeGateway,
)
from budgets.payments.onboarding import PaymentsUnavailable
from budgets.payments.paying import RetryPolicy

EXTENSION_KEY = "payment_gateway"
_NOT_CONFIGURED = "Payments are not configured on this server (STRIPE_SECRET_KEY)."


class UnconfiguredGateway:
    """Stands in for Stripe when no key is set: every operation is unavailable."""

    configured = False

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> NoReturn:
        raise PaymentsUnavailable(_NOT_CONFIGURED)

    def __getattr__(self, name: str) -> Any:
        def unavailable(*args: Any, **kwargs: Any) -> NoReturn:
            raise GatewayUnavailable(_NOT_CONFIGURED)

        return unavailable


def payment_gateway(app: Flask | None = None) -> PaymentGateway:
    """The gateway of the given (or current) app."""
    application = app or current_app
    gateway: PaymentGateway | None = application.extensions.get(EXTENSION_KEY)
    if gateway is None:
        try:
            gateway = StripeGateway.from_config(application.config)
        except PaymentsNotConfigured:
            return UnconfiguredGateway()
        application.extensions[EXTENSION_KEY] = gateway
    return gateway


def retry_policy(app: Flask | None = None) -> RetryPolicy:
    """How the app retries payments whose outcome is unknown (PAYMENT_RETRY_* settings)."""
    config = (app or current_app).config
    return RetryPolicy(
        base_seconds=int(config["PAYMENT_RETRY_BASE_SECONDS"]),
        max_seconds=int(config["PAYMENT_RETRY_MAX_SECONDS"]),
        lease_seconds=int(config["PAYMENT_LEASE_SECONDS"]),
    )
