"""Throttling of sign-in attempts per client address.

Complements the per-account lockout in `auth.service.authenticate_login`: the lockout
stops guessing one account's password, this stops one address trying many accounts.
Each endpoint allows LOGIN_RATE_LIMIT per address, counted with the app's rate counters
(app/rate_counters.py: Redis when REDIS_URL is set, so every worker shares them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, request

from app.rate_counters import Counters, Limit, parse_rates
from app.rate_limits import refusal

# Everything that checks a password, creates an account or sends an email.
SIGN_IN_ENDPOINTS = (
    "oauth.authorize_decision",
    "oauth.token",
    "providers.ProviderSignUps",  # the providers package's self sign-up, once merged
    "onboarding.PasswordResets",
    "account_pages.accept_invitation",
    "account_pages.forgot_password",
    "account_pages.reset_password",
)


def _throttled(endpoint: str, view: Callable[..., Any], counters: Counters) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = f"sign-in:{endpoint}:address:{request.remote_addr}"
        rates = parse_rates(current_app.config["LOGIN_RATE_LIMIT"])
        refused = refusal(counters.hit([Limit(key, rate) for rate in rates], time.time()))
        return refused if refused is not None else view(*args, **kwargs)

    return wrapper


def init_throttle(app: Flask) -> None:
    """Limit each of those endpoints to LOGIN_RATE_LIMIT per client address (whenever rate
    limits are enabled)."""
    parse_rates(app.config["LOGIN_RATE_LIMIT"])  # a typo fails at start
    counters: Counters | None = app.extensions.get("rate_counters")
    if counters is None:
        return
    for endpoint in (e for e in SIGN_IN_ENDPOINTS if e in app.view_functions):
        app.view_functions[endpoint] = _throttled(endpoint, app.view_functions[endpoint], counters)
