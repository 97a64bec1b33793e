"""Rate limits per user and per client (Flask-Limiter), answered as 429 with Retry-After.

Two application-wide limits apply to every request:
- per caller: the signed-in user (whatever app or token they use), a back-office client
  for client-credentials tokens, or the network address for anonymous requests;
- per OAuth client: everything one registered client sends, across all its users.
Counters live in Redis when REDIS_URL is set (so all workers share them) and in memory
otherwise. Health probes are never limited.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter

from app.domain_errors import DomainError

UNLIMITED_PATHS = ("/healthz", "/readyz")
log = logging.getLogger(__name__)


def _actor() -> Any:
    """The caller behind the bearer token, if it is a valid one (cached for the view)."""
    if "actor" in g:
        return g.actor
    if not request.headers.get("Authorization") or g.get("rate_limit_token_invalid"):
        return None
    from auth.guard import authenticate

    try:
        return authenticate()
    except DomainError:
        g.rate_limit_token_invalid = True  # look a bad token up once, not once per limit
        return None


def caller_key() -> str:
    """Who is calling: the user, else the client, else the network address."""
    actor = _actor()
    if actor is not None and actor.user_id:
        return f"user:{actor.user_id}"
    if actor is not None and actor.client_id:
        return f"client:{actor.client_id}"
    return f"address:{request.remote_addr}"


def client_key() -> str:
    """Which registered OAuth client is calling (the network address when unknown)."""
    actor = _actor()
    if actor is not None and actor.client_id:
        return f"client:{actor.client_id}"
    return f"address:{request.remote_addr}"


def _exempt() -> bool:
    return request.path.startswith(UNLIMITED_PATHS)


def init_rate_limits(app: Flask) -> Limiter:
    """Attach the limiter with the per-caller and per-client limits from the config."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if app.config.get("ENV_NAME") == "production" and app.config[
        "RATELIMIT_STORAGE_URI"
    ].startswith("memory"):
        # Not refused: one worker is a valid deployment. But with N workers each keeps its
        # own counters, and every caller gets N times the limit.
        log.warning(
            "REDIS_URL is not set: rate-limit counters are kept in each worker's memory; "
            "set it whenever more than one worker serves the API"
        )
    limiter = Limiter(
        caller_key,
        application_limits=[
            ApplicationLimit(
                lambda: str(current_app.config["RATE_LIMIT_PER_CALLER"]),
                key_function=caller_key,
                scope="per-caller",
                exempt_when=_exempt,
            ),
            ApplicationLimit(
                lambda: str(current_app.config["RATE_LIMIT_PER_CLIENT"]),
                key_function=client_key,
                scope="per-client",
                exempt_when=_exempt,
            ),
        ],
        headers_enabled=True,
        # A weighted count of this and the previous window: O(1) per request, where a
        # moving window keeps (and scans) one timestamp per request in the limit.
        strategy="sliding-window-counter",
        # If Redis goes away, keep limiting per process rather than failing requests.
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter
    return limiter
