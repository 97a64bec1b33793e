"""Sliding-window rate counters: every limit on a request checked and counted in ONE round
trip to Redis (or in this process's memory when there is no Redis).

A limit of N per W seconds counts hits in fixed windows of W seconds and estimates the
last W seconds as this window's count plus the previous window's count weighted by how
much of it the last W seconds still cover (the "sliding window counter"): two integers per
caller and limit, O(1) work per request. A request is allowed only if every limit has room,
and only an allowed request is counted, so a refused caller does not dig themselves deeper.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import redis
from limits import parse_many

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """At most `amount` hits in any `seconds`."""

    amount: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.amount}/{self.seconds}s"


@lru_cache(maxsize=64)
def parse_rates(text: str) -> tuple[Rate, ...]:
    """The `limits` syntax ("120/minute;2000/hour", "20 per minute") as Rates."""
    return tuple(Rate(item.amount, item.get_expiry()) for item in parse_many(text))


@dataclass(frozen=True)
class Limit:
    """One rate applied to one caller key (e.g. per-caller user:42, 120 a minute)."""

    key: str
    rate: Rate


@dataclass(frozen=True)
class Window:
    """Where `now` falls for a rate: the current window's number and how far into it."""

    index: int
    elapsed: float

    @classmethod
    def at(cls, rate: Rate, now: float) -> Window:
        index = int(now // rate.seconds)
        return cls(index, now - index * rate.seconds)


@dataclass(frozen=True)
class Verdict:
    """One limit's answer: whether it had room, and what the caller is told."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the current window ends
    retry_after: int  # seconds until a request would be allowed (0 if it was)


def weighted_count(rate: Rate, window: Window, current: int, previous: int) -> float:
    """The estimate of hits in the last `rate.seconds`."""
    return previous * (rate.seconds - window.elapsed) / rate.seconds + current


def has_room(rate: Rate, window: Window, current: int, previous: int) -> bool:
    return weighted_count(rate, window, current, previous) + 1 <= rate.amount


def seconds_until_room(rate: Rate, window: Window, current: int, previous: int) -> float:
    """How long until one more hit fits, assuming no other hit is counted meanwhile."""
    room = rate.amount - 1  # the weighted count must fall to this
    if current > room:
        # This window alone is full: wait for it to become the previous window and for
        # enough of it to slide out (its weight falls linearly over the next window).
        return (rate.seconds - window.elapsed) + rate.seconds * (1 - room / current)
    if previous == 0:
        return 0.0
    # The previous window's share falls linearly until the count fits.
    return max(0.0, (rate.seconds - window.elapsed) - (room - current) * rate.seconds / previous)


def verdict(
    limit: Limit, window: Window, now: float, current: int, previous: int, allowed: bool
) -> Verdict:
    """What to tell the caller about one limit. `current` and `previous` are the counts
    after this request was counted (if it was allowed), before otherwise."""
    rate = limit.rate
    remaining = math.floor(rate.amount - weighted_count(rate, window, current, previous))
    wait = 0 if allowed else max(1, math.ceil(seconds_until_room(rate, window, current, previous)))
    return Verdict(
        allowed=allowed,
        limit=rate.amount,
        remaining=max(0, remaining),
        reset_at=math.ceil(now - window.elapsed + rate.seconds),
        retry_after=wait,
    )


def counter_key(limit: Limit, index: int) -> str:
    return f"rate:{limit.key}:{limit.rate}:{index}"


class Counters(Protocol):
    def hit(self, limits: Sequence[Limit], now: float) -> list[Verdict]:
        """Count one request against every limit if all have room; each limit's verdict."""


class MemoryCounters:
    """Counters in this process (one worker, tests, or while Redis is unreachable)."""

    _SWEEP_EVERY = 1_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()
        self._hits = 0

    def hit(self, limits: Sequence[Limit], now: float) -> list[Verdict]:
        windows = [Window.at(limit.rate, now) for limit in limits]
        with self._lock:
            self._maybe_sweep(now)
            counts = [
                (
                    self._get(counter_key(limit, w.index), now),
                    self._get(counter_key(limit, w.index - 1), now),
                )
                for limit, w in zip(limits, windows, strict=True)
            ]
            allowed = all(
                has_room(limit.rate, w, cur, prev)
                for limit, w, (cur, prev) in zip(limits, windows, counts, strict=True)
            )
            if allowed:
                counts = [
                    (self._incr(counter_key(limit, w.index), now + 2 * limit.rate.seconds), prev)
                    for limit, w, (_cur, prev) in zip(limits, windows, counts, strict=True)
                ]
        return [
            verdict(limit, w, now, cur, prev, allowed)
            for limit, w, (cur, prev) in zip(limits, windows, counts, strict=True)
        ]

    def _get(self, key: str, now: float) -> int:
        count, expires_at = self._counts.get(key, (0, 0.0))
        return count if expires_at > now else 0

    def _incr(self, key: str, expires_at: float) -> int:
        count = self._counts.get(key, (0, 0.0))[0] + 1
        self._counts[key] = (count, expires_at)
        return count

    def _maybe_sweep(self, now: float) -> None:
        self._hits += 1
        if self._hits % self._SWEEP_EVERY == 0:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}


# KEYS: each limit's current and previous window counters, in pairs.
# ARGV: each limit's amount, window in ms and ms elapsed in the current window, in threes.
# Returns 1 or 0 (allowed), then each limit's current and previous counts.
_HIT_SCRIPT = """
local limits = #KEYS / 2
local counts = {}
local allowed = 1
for i = 1, limits do
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local amount = tonumber(ARGV[3 * i - 2])
  local window = tonumber(ARGV[3 * i - 1])
  local elapsed = tonumber(ARGV[3 * i])
  if previous * (window - elapsed) / window + current + 1 > amount then allowed = 0 end
  counts[2 * i - 1] = current
  counts[2 * i] = previous
end
if allowed == 1 then
  for i = 1, limits do
    counts[2 * i - 1] = redis.call('INCR', KEYS[2 * i - 1])
    redis.call('PEXPIRE', KEYS[2 * i - 1], 2 * tonumber(ARGV[3 * i - 1]))
  end
end
table.insert(counts, 1, allowed)
return counts
"""
_HIT_SCRIPT_SHA1 = hashlib.sha1(_HIT_SCRIPT.encode(), usedforsecurity=False).hexdigest()


class RedisCounters:
    """Counters shared by every worker, checked and counted by one Lua script (atomic,
    one round trip). While Redis cannot be reached, requests are limited per process
    rather than failed, and Redis is tried again after `retry_seconds`."""

    def __init__(self, url: str, *, retry_seconds: float = 5.0) -> None:
        self._url = url
        self._connection: Any = None
        self._connection_pid = 0
        self._fallback = MemoryCounters()
        self._retry_seconds = retry_seconds
        self._unreachable_until = 0.0

    def hit(self, limits: Sequence[Limit], now: float) -> list[Verdict]:
        if time.monotonic() < self._unreachable_until:
            return self._fallback.hit(limits, now)
        windows = [Window.at(limit.rate, now) for limit in limits]
        keys: list[str] = []
        args: list[int] = []
        for limit, w in zip(limits, windows, strict=True):
            keys += [counter_key(limit, w.index), counter_key(limit, w.index - 1)]
            args += [limit.rate.amount, limit.rate.seconds * 1000, int(w.elapsed * 1000)]
        try:
            answer = self._run_script(keys, args)
        except redis.RedisError as error:
            log.warning("rate-limit counters in this worker's memory: Redis failed (%s)", error)
            self._unreachable_until = time.monotonic() + self._retry_seconds
            return self._fallback.hit(limits, now)
        allowed = answer[0] == 1
        return [
            verdict(limit, w, now, int(answer[1 + 2 * i]), int(answer[2 + 2 * i]), allowed)
            for i, (limit, w) in enumerate(zip(limits, windows, strict=True))
        ]

    def _run_script(self, keys: list[str], args: list[int]) -> Any:
        """The script's answer, by its SHA1 (the script itself only when Redis does not
        have it yet), sent on the connection's own methods: redis-py's client and Script
        layers cost as much CPU again as the round trip (136,000 instructions against
        74,000, measured under callgrind)."""
        connection = self._process_connection()
        try:
            connection.send_command("EVALSHA", _HIT_SCRIPT_SHA1, len(keys), *keys, *args)
            try:
                return connection.read_response()
            except redis.exceptions.NoScriptError:
                connection.send_command("EVAL", _HIT_SCRIPT, len(keys), *keys, *args)
                return connection.read_response()
        except redis.RedisError:
            connection.disconnect()  # never read a late answer as the next request's
            raise

    def _process_connection(self) -> Any:
        """This process's own connection, opened on first use.

        One connection held per process, not a pool: checking a connection out of a pool
        (and probing that it is alive) cost as much CPU as the script's round trip. It is
        made lazily, so a worker never shares a socket opened before gunicorn forked, and
        so Redis being down at start falls back like Redis going down later. It connects
        on first send, and again after a failure.
        """
        if self._connection_pid != os.getpid():
            client = redis.Redis.from_url(
                self._url, socket_timeout=1, socket_connect_timeout=1, single_connection_client=True
            )
            self._connection = client.connection
            self._connection_pid = os.getpid()
        return self._connection


def counters_for(storage_uri: str) -> Counters:
    """Redis counters for a redis:// (or rediss://) URI, in-memory ones for memory://."""
    if storage_uri.startswith(("redis://", "rediss://", "unix://")):
        return RedisCounters(storage_uri)
    if storage_uri.startswith("memory://"):
        return MemoryCounters()
    raise ValueError(f"unsupported rate-limit storage: {storage_uri.split(':', 1)[0]}")
