"""Throttling of sign-in attempts per client address (Flask-Limiter).

Complements the per-account lockout in `auth.service.authenticate_login`: the lockout
stops guessing one account's password, this stops one address trying many accounts.
Storage is in memory by default; set RATELIMIT_STORAGE_URI (e.g. Redis) when running
several workers. Each app gets its own limiter, so tests do not share counters.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Everything that checks a password, creates an account or sends an email.
SIGN_IN_ENDPOINTS = (
    "oauth.authorize_decision",
    "oauth.token",
    "onboarding.ProviderSignups",
    "onboarding.PasswordResets",
    "account_pages.accept_invitation",
    "account_pages.forgot_password",
    "account_pages.reset_password",
)


def _sign_in_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def init_throttle(app: Flask) -> Limiter:
    """Limit each of those endpoints to LOGIN_RATE_LIMIT per client address."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Flask-Limiter holds limiters weakly: the app keeps this one alive.
    limiter = Limiter(get_remote_address, default_limits=[])
    limiter.init_app(app)
    app.extensions["sign_in_limiter"] = limiter
    for endpoint in SIGN_IN_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(_sign_in_limit)(view)
    return limiter
