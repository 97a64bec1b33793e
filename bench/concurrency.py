"""Many concurrent bookings: on ONE budget (no lost or doubled money) and on many.

Bookings on one budget are serialised by the budget's row lock, so the check is about
correctness: afterwards, in SQL, the money committed on the line equals the totals of
exactly the bookings that were answered 201, and never exceeds what the line plans.
Bookings on different budgets do not wait for each other, so their throughput should
grow with the number of workers.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from bench.journeys import booking_body
from bench.sizes import Generated


@dataclass
class ConcurrencyResult:
    scenario: str
    workers: int
    threads: int
    requests: int
    seconds: float
    rps: float
    statuses: dict[str, int]
    committed_pence: int | None = None
    booked_total_pence: int | None = None
    planned_pence: int | None = None
    money_consistent: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _post(port: int, token: str, body: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/bookings",
        data=body.encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"conc-{secrets.token_hex(12)}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _fire(
    port: int, calls: list[tuple[str, str]], threads: int
) -> tuple[list[tuple[int, dict[str, Any]]], float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda call: _post(port, *call), calls))
    return results, time.perf_counter() - started


def one_budget(
    url: str, port: int, data: Generated, workers: int, threads: int = 32
) -> ConcurrencyResult | None:
    """Four times as many one-session bookings as the capped line has room for, at once."""
    line = data.capped_line
    if line is None:
        return None
    token = dict((pid, t) for t, pid in data.person_tokens)[line.person_id]
    rng = random.Random(7)
    calls = [
        (token, booking_body(data, rng, line.person_id, capped=True))
        for _ in range(line.bookings_allowed * 4)
    ]
    results, seconds = _fire(port, calls, threads)
    booked = sum(
        body.get("total", {}).get("amount", 0) for status, body in results if status == 201
    )
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        committed = connection.execute(
            "SELECT coalesce(sum(amount_pence), 0) FROM ledger_entries "
            "WHERE plan_line_id = %s AND account = 'committed'",
            (line.line_id,),
        ).fetchone()
        rows = connection.execute(
            "SELECT count(*), coalesce(sum(total_pence), 0) FROM bookings WHERE plan_line_id = %s",
            (line.line_id,),
        ).fetchone()
        planned = connection.execute(
            "SELECT planned_total_pence FROM plan_lines WHERE id = %s", (line.line_id,)
        ).fetchone()
        running = connection.execute(  # the budget's running sums (budgets/ledger/sums.py)
            "SELECT coalesce((b.ledger_sums -> 'lines' -> l.lineage_id ->> 'committed')::bigint, 0)"
            " FROM plan_lines l JOIN care_plans p ON p.id = l.plan_id"
            " JOIN budgets b ON b.id = p.budget_id WHERE l.id = %s",
            (line.line_id,),
        ).fetchone()
    assert committed is not None and rows is not None and planned is not None
    assert running is not None
    created = sum(1 for status, _ in results if status == 201)
    consistent = (
        int(committed[0]) == booked == int(rows[1]) == int(running[0])
        and int(rows[0]) == created
        and int(committed[0]) <= int(planned[0])
    )
    return ConcurrencyResult(
        scenario="one budget",
        workers=workers,
        threads=threads,
        requests=len(calls),
        seconds=round(seconds, 2),
        rps=round(len(calls) / seconds, 1),
        statuses={str(k): v for k, v in Counter(s for s, _ in results).items()},
        committed_pence=int(committed[0]),
        booked_total_pence=booked,
        planned_pence=int(planned[0]),
        money_consistent=consistent,
    )


def many_budgets(
    port: int, data: Generated, workers: int, requests: int = 400, threads: int = 32
) -> ConcurrencyResult:
    """`requests` bookings spread over the people's own bench lines (different budgets)."""
    rng = random.Random(workers)
    people = [(t, pid) for t, pid in data.person_tokens if pid in data.bench_line_of]
    calls = [
        (token, booking_body(data, rng, pid))
        for token, pid in (rng.choice(people) for _ in range(requests))
    ]
    results, seconds = _fire(port, calls, threads)
    return ConcurrencyResult(
        scenario="different budgets",
        workers=workers,
        threads=threads,
        requests=len(calls),
        seconds=round(seconds, 2),
        rps=round(len(calls) / seconds, 1),
        statuses={str(k): v for k, v in Counter(s for s, _ in results).items()},
    )


def print_results(results: list[ConcurrencyResult]) -> None:
    print(f"{'concurrent bookings':<20} {'workers':>7} {'req':>5} {'req/s':>7}  statuses / money")
    for r in results:
        money = ""
        if r.money_consistent is not None:
            money = (
                f"  committed {r.committed_pence} = booked {r.booked_total_pence} "
                f"<= planned {r.planned_pence}: {'OK' if r.money_consistent else 'MISMATCH'}"
            )
        print(f"{r.scenario:<20} {r.workers:>7} {r.requests:>5} {r.rps:>7.1f}  {r.statuses}{money}")
