"""bench/ab.py: the paired comparison of two commits."""

from __future__ import annotations

import os

from bench.ab import Turn, cpu_used_since, paired, steal_percent
from bench.run import cpu_ns


def _turn(journey: str, round_number: int, side: str, rps: float) -> Turn:
    return Turn(
        journey=journey,
        round=round_number,
        side=side,
        commit=side,
        rps=rps,
        reference_rps=1000.0,
        p50_ms=1.0,
        p99_ms=2.0,
        errors=0,
        worker_cpu_us=1.0,
        postgres_cpu_us=1.0,
        steal_percent=0.0,
        worker_system_percent=0.0,
    )


def test_rounds_are_paired_base_then_head_whichever_ran_first() -> None:
    turns = [
        _turn("balances", 0, "base", 400),
        _turn("balances", 0, "head", 420),
        _turn("balances", 1, "head", 390),
        _turn("balances", 1, "base", 410),
        _turn("booking", 0, "base", 100),
        _turn("booking", 0, "head", 90),
    ]
    assert paired(turns, "balances") == [(400, 420), (410, 390)]
    assert paired(turns, "booking") == [(100, 90)]


def test_a_round_missing_one_side_is_not_paired() -> None:
    turns = [_turn("balances", 0, "base", 400), _turn("balances", 1, "head", 420)]
    assert paired(turns, "balances") == []


def test_cpu_time_is_read_for_live_processes_and_skipped_for_exited_ones() -> None:
    used = cpu_ns([os.getpid(), 2**22 + 12345])  # above the largest pid Linux gives
    assert list(used) == [os.getpid()]
    assert used[os.getpid()] > 0


def test_a_process_started_between_readings_counts_in_full() -> None:
    before = {1: 100, 2: 500}
    after = {1: 150, 2: 700, 3: 40}  # 3 is a backend the run's connections started
    assert cpu_used_since(before, after) == 50 + 200 + 40


def test_steal_is_a_share_of_the_time_spent_not_counting_guest_time_twice() -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    spent = [100, 0, 50, 100, 0, 0, 0, 50, 30, 0]
    assert steal_percent(spent) == 100 * 50 / 300
