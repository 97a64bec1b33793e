"""Rate limits per user and per client, answered as 429 with Retry-After.

Two application-wide limits apply to every request:
- per caller: the signed-in user (whatever app or token they use), a back-office client
  for client-credentials tokens, or the network address for anonymous requests;
- per OAuth client: everything one registered client sends, across all its users.
Both are checked and counted together in one round trip (app/rate_counters.py). Counters
live in Redis when REDIS_URL is set (so all workers share them) and in memory otherwise.
For a token this worker has seen before, that round trip is sent before the token is
looked up in the database and read after, so the two waits overlap (`_check`).
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


class KeysByToken:
    """The limits' keys of each access token this worker has authenticated, by the token's
    hash. A token belongs to one user and client for life, so its keys never go stale.
    Only the keys come from here: the token is still looked up in the database on every
    request, so a revoked token stops working at once. Cleared when full."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._keys: dict[str, tuple[str, str]] = {}
        self._capacity = capacity

    def of_this_request(self) -> tuple[str, str] | None:
        """This request's token's (caller, client) keys, if this worker has seen it."""
        from auth.guard import bearer_token
        from auth.tokens import token_hash

        presented = bearer_token()
        if presented is None:
            return None
        hashed = token_hash(presented)
        request_globals().rate_limit_token_hash = hashed
        return self._keys.get(hashed)

    def remember(self, actor: Any, keys: tuple[str, str]) -> None:
        """Keep the keys of this request's token, once it has proved to be a live one."""
        hashed = request_globals().get("rate_limit_token_hash")
        if actor is None or hashed is None:
            return
        if len(self._keys) >= self._capacity:
            self._keys.clear()
        self._keys[hashed] = keys


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


def _keys(actor: Any) -> tuple[str, str]:
    return f"per-caller:{_caller_key(actor)}", f"per-client:{_client_key(actor)}"


def _limits(caller: str, client: str) -> list[Limit]:
    config = current_app.config
    return [Limit(caller, rate) for rate in parse_rates(config["RATE_LIMIT_PER_CALLER"])] + [
        Limit(client, rate) for rate in parse_rates(config["RATE_LIMIT_PER_CLIENT"])
    ]


def request_limits() -> list[Limit]:
    """Every limit this request counts against."""
    return _limits(*_keys(_actor()))


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


def _check(counters: Counters, keys_by_token: KeysByToken) -> Response | None:
    if current_request().path.startswith(UNLIMITED_PATHS):
        return None
    now, known = time.time(), keys_by_token.of_this_request()
    if known is not None:
        # Counted while the token is looked up: each wait blocks the worker and hands the
        # CPU to another process, and two such waits in a row cost a read about a fifth
        # of its throughput, far more than their instructions (README, Performance).
        finish = counters.start_hit(_limits(*known), now)
        try:
            _actor()
        finally:
            verdicts = finish()
    else:
        actor = _actor()
        keys = _keys(actor)
        verdicts = counters.hit(_limits(*keys), now)
        keys_by_token.remember(actor, keys)
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
    keys_by_token = KeysByToken()
    app.before_request(lambda: _check(counters, keys_by_token))
    app.after_request(_add_headers)
    app.extensions["rate_counters"] = counters
    return counters
