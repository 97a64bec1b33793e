"""Rate limits per user and per client, answered as 429 with Retry-After.

Two application-wide limits apply to every request:
- per caller: the signed-in user (whatever app or token they use), a back-office client
  for client-credentials tokens, or the network address for anonymous requests;
- per OAuth client: everything one registered client sends, across all its users.
Both are checked and counted together in one round trip (app/rate_counters.py). Counters
live in Redis when REDIS_URL is set (so all workers share them) and in memory otherwise.
Health probes are never limited. Every limited response says where the caller stands:
X-RateLimit-Limit, -Remaining and -Reset for the limit closest to running out.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, current_app, g, request

from app.domain_errors import DomainError
from app.errors import problem_response
from app.rate_counters import Counters, Limit, Verdict, counters_for, parse_rates
from app.request_locals import current_request, request_globals

UNLIMITED_PATHS = ("/healthz", "/readyz")
log = logging.getLogger(__name__)


def _actor() -> Any:
    """The caller behind the bearer token, if it is a valid one (cached for the view)."""
    globals_ = request_globals()
    actor = globals_.get("actor")
    if actor is not None:
        return actor
    if not current_request().environ.get("HTTP_AUTHORIZATION") or globals_.get(
        "rate_limit_token_invalid"
    ):
        return None
    from auth.guard import authenticate

    try:
        return authenticate()
    except DomainError:
        globals_.rate_limit_token_invalid = True  # look a bad token up once, not per limit
        return None


def _caller_key(actor: Any) -> str:
    """Who is calling: the user, else the client, else the network address."""
    if actor is not None and actor.user_id:
        return f"user:{actor.user_id}"
    if actor is not None and actor.client_id:
        return f"client:{actor.client_id}"
    return f"address:{request.remote_addr}"


def _client_key(actor: Any) -> str:
    """Which registered OAuth client is calling (the network address when unknown)."""
    if actor is not None and actor.client_id:
        return f"client:{actor.client_id}"
    return f"address:{request.remote_addr}"


def request_limits() -> list[Limit]:
    """Every limit this request counts against."""
    config = current_app.config
    actor = _actor()
    caller, client = f"per-caller:{_caller_key(actor)}", f"per-client:{_client_key(actor)}"
    return [Limit(caller, rate) for rate in parse_rates(config["RATE_LIMIT_PER_CALLER"])] + [
        Limit(client, rate) for rate in parse_rates(config["RATE_LIMIT_PER_CLIENT"])
    ]


def _headers(shown: Verdict) -> dict[str, str]:
    headers = {
        "X-RateLimit-Limit": str(shown.limit),
        "X-RateLimit-Remaining": str(shown.remaining),
        "X-RateLimit-Reset": str(shown.reset_at),
    }
    if not shown.allowed:
        headers["Retry-After"] = str(shown.retry_after)
    return headers


def refusal(verdicts: list[Verdict]) -> Response | None:
    """The 429 when any limit refused the request (else None), telling the caller about
    the limit with the longest wait: retrying sooner would only be refused by it."""
    refused = [v for v in verdicts if not v.allowed]
    if not refused:
        return None
    g.rate_limit_headers = _headers(max(refused, key=lambda v: v.retry_after))
    return problem_response("rate-limited", headers=g.rate_limit_headers)


def _check(counters: Counters) -> Response | None:
    if current_request().path.startswith(UNLIMITED_PATHS):
        return None
    verdicts = counters.hit(request_limits(), time.time())
    refused = refusal(verdicts)
    if refused is None:
        request_globals().rate_limit_headers = _headers(min(verdicts, key=lambda v: v.remaining))
    return refused


def _add_headers(response: Response) -> Response:
    for name, value in request_globals().get("rate_limit_headers", {}).items():
        response.headers[name] = value
    return response


def init_rate_limits(app: Flask) -> Counters | None:
    """Check the per-caller and per-client limits from the config before every request."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    storage_uri = app.config["RATELIMIT_STORAGE_URI"]
    if app.config.get("ENV_NAME") == "production" and storage_uri.startswith("memory"):
        # Not refused: one worker is a valid deployment. But with N workers each keeps its
        # own counters, and every caller gets N times the limit.
        log.warning(
            "REDIS_URL is not set: rate-limit counters are kept in each worker's memory; "
            "set it whenever more than one worker serves the API"
        )
    for setting in ("RATE_LIMIT_PER_CALLER", "RATE_LIMIT_PER_CLIENT"):
        parse_rates(app.config[setting])  # a typo fails at start, not on every request
    if not app.config.get("RATELIMIT_ENABLED", True):
        return None
    counters = counters_for(storage_uri)
    app.before_request(lambda: _check(counters))
    app.after_request(_add_headers)
    app.extensions["rate_counters"] = counters
    return counters
