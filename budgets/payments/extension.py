"""The app's payment gateway: built once from the STRIPE_* settings, replaceable in tests."""

from __future__ import annotations

from flask import Flask, current_app

from budgets.payments.gateway import PaymentGateway, PaymentsNotConfigured, StripeGateway
from budgets.payments.onboarding import PaymentsUnavailable
from budgets.payments.paying import RetryPolicy

EXTENSION_KEY = "payment_gateway"


def payment_gateway(app: Flask | None = None) -> PaymentGateway:
    """The gateway of the given (or current) app; 503 when Stripe is not configured."""
    application = app or current_app
    gateway: PaymentGateway | None = application.extensions.get(EXTENSION_KEY)
    if gateway is None:
        try:
            gateway = StripeGateway.from_config(application.config)
        except PaymentsNotConfigured as exc:
            raise PaymentsUnavailable("Payments are not configured on this server.") from exc
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
