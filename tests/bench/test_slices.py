"""bench/run.py: a saturated run measured in slices adds up to one run."""

from __future__ import annotations

from typing import Any

from bench.run import merged, percentile


def _slice(latencies: list[tuple[int, int]], seconds: float, errors: int = 0) -> dict[str, Any]:
    return {
        "requests": sum(count for _, count in latencies),
        "duration_us": int(seconds * 1e6),
        "status_errors": errors,
        "socket_errors": 0,
        "positions": [7, 9],
        "latency_us_counts": latencies,
    }


def test_percentiles_are_nearest_rank_over_the_counts() -> None:
    counts = [(10, 50), (20, 45), (30, 4), (400, 1)]  # 100 requests
    assert percentile(counts, 50) == 10
    assert percentile(counts, 51) == 20
    assert percentile(counts, 95) == 20
    assert percentile(counts, 99) == 30
    assert percentile(counts, 100) == 400
    assert percentile([], 99) == 0


def test_slices_merge_into_one_run_with_the_percentiles_of_all_their_latencies() -> None:
    fast = _slice([(10, 90), (20, 10)], 2.0)
    slow = _slice([(20, 50), (500, 50)], 2.0, errors=3)
    run = merged([fast, slow])
    assert run["requests"] == 200
    assert run["duration_us"] == 4_000_000
    assert run["status_errors"] == 3
    assert run["latency_us_counts"] == [(10, 90), (20, 60), (500, 50)]
    # Neither slice's own percentiles: p50 is the 100th fastest of 200, p95 the 190th.
    assert (run["p50_us"], run["p95_us"], run["p99_us"]) == (20, 500, 500)
    assert percentile(run["latency_us_counts"], 45) == 10
    assert run["positions"] == [7, 9]  # where the next slice continues
