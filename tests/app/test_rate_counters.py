"""The sliding-window counters behind the rate limits, in memory and in the real Redis."""

from __future__ import annotations

import logging
import os
import uuid

import pytest
import redis

from app.rate_counters import (
    Counters,
    Limit,
    MemoryCounters,
    Rate,
    RedisCounters,
    counters_for,
    parse_rates,
)

MINUTE = Rate(3, 60)
START = 1_800_000_000.0  # a window boundary for 60-second windows


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"these tests need Redis at {url} (set TEST_REDIS_URL): {error}")
    return url


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> Counters:
    if request.param == "memory":
        return MemoryCounters()
    return RedisCounters(request.getfixturevalue("redis_url"))


def _limit(rate: Rate = MINUTE) -> Limit:
    return Limit(f"test:{uuid.uuid4()}", rate)  # fresh counters for every test


def _allowed(counters: Counters, limits: list[Limit], now: float) -> bool:
    return all(v.allowed for v in counters.hit(limits, now))


def test_parses_the_limits_syntax() -> None:
    assert parse_rates("120/minute;2000/hour") == (Rate(120, 60), Rate(2000, 3600))
    assert parse_rates("20 per minute") == (Rate(20, 60),)


def test_allows_up_to_the_amount_then_refuses(counters: Counters) -> None:
    limit = _limit()
    verdicts = [counters.hit([limit], START + i)[0] for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert verdicts[0].limit == 3
    assert verdicts[0].reset_at == START + 60
    assert verdicts[3].retry_after > 0 and verdicts[0].retry_after == 0


def test_refused_requests_are_not_counted(counters: Counters) -> None:
    limit = _limit()
    for i in range(3):
        counters.hit([limit], START + i)
    for i in range(20):
        assert not _allowed(counters, [limit], START + 10 + i)
    # Had the refusals counted, the caller would still be refused here.
    assert _allowed(counters, [limit], START + 60 + 21)


def test_retry_after_is_exactly_when_the_next_request_fits(counters: Counters) -> None:
    """Three hits early in one window: the previous window's weight must fall to 2/3."""
    limit = _limit()
    for i in range(3):
        counters.hit([limit], START + 5 + i)
    refused_at = START + 30
    wait = counters.hit([limit], refused_at)[0].retry_after
    assert wait == 30 + 20  # to the window's end, then a third of the next window
    assert not _allowed(counters, [limit], refused_at + wait - 1)
    assert _allowed(counters, [limit], refused_at + wait)


def test_the_previous_window_counts_by_how_much_it_still_overlaps(counters: Counters) -> None:
    limit = _limit(Rate(10, 60))
    for i in range(10):
        counters.hit([limit], START + 50 + i / 10)
    # 15 s into the next window, 45/60 of the previous 10 still count: room for 2.
    later = START + 60 + 15
    assert [_allowed(counters, [limit], later) for _ in range(3)] == [True, True, False]


def test_one_full_limit_stops_the_request_and_the_others_are_not_counted(
    counters: Counters,
) -> None:
    tight, loose = _limit(Rate(1, 60)), _limit(Rate(100, 60))
    first = counters.hit([tight, loose], START)
    assert all(v.allowed for v in first)
    second = counters.hit([tight, loose], START + 1)
    assert [v.allowed for v in second] == [False, False]
    assert second[1].remaining == 99  # the refused request was not counted on `loose`


def test_workers_share_redis_counters(redis_url: str) -> None:
    limit = _limit()
    workers = [RedisCounters(redis_url), RedisCounters(redis_url)]
    answers = [workers[i % 2].hit([limit], START + i)[0].allowed for i in range(4)]
    assert answers == [True, True, True, False]


def test_counting_goes_on_after_redis_forgets_the_script(redis_url: str) -> None:
    """Redis keeps scripts only until a restart or SCRIPT FLUSH: the counters send the
    script again when Redis does not know it, and count as before."""
    limit = _limit()
    counters = RedisCounters(redis_url)
    assert counters.hit([limit], START)[0].remaining == 2
    redis.Redis.from_url(redis_url).script_flush()
    assert counters.hit([limit], START + 1)[0].remaining == 1
    assert counters.hit([limit], START + 2)[0].remaining == 0


def test_a_forked_worker_counts_on_its_own_connection(redis_url: str) -> None:
    """gunicorn forks workers from one process: counters used before the fork must not
    share the parent's socket with the child, or each could read the other's answers."""
    parents, childs = _limit(Rate(10_000, 60)), _limit(Rate(1_000_000, 60))
    counters = RedisCounters(redis_url)
    counters.hit([parents], START)  # the parent's connection is open before the fork
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which exits without pytest
        try:
            seen = [counters.hit([childs], START + 1)[0].remaining for _ in range(1000)]
            os._exit(0 if seen == list(range(999_999, 998_999, -1)) else 1)
        except BaseException:
            os._exit(2)
    seen = [counters.hit([parents], START + 1)[0].remaining for _ in range(1000)]
    _, status = os.waitpid(child, 0)
    assert seen == list(range(9_998, 8_998, -1))  # exactly its own counts, in order
    assert os.waitstatus_to_exitcode(status) == 0


def test_counters_fall_back_to_memory_while_redis_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = RedisCounters("redis://127.0.0.1:6399/0", retry_seconds=60)
    limit = _limit()
    with caplog.at_level(logging.WARNING, logger="app.rate_counters"):
        answers = [unreachable.hit([limit], START + i)[0].allowed for i in range(4)]
    assert answers == [True, True, True, False]  # still limited, per process
    assert sum("Redis failed" in r.getMessage() for r in caplog.records) == 1


def test_memory_counters_forget_finished_windows() -> None:
    memory = MemoryCounters()
    for i in range(MemoryCounters._SWEEP_EVERY - 1):
        memory.hit([_limit()], START + i % 10)
    memory.hit([_limit()], START + 1_000)  # the sweep: every earlier window has finished
    assert len(memory._counts) == 1


def test_unknown_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        counters_for("memcached://127.0.0.1")
