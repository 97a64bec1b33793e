"""`make bench`: load the dataset, serve the API and the reference with gunicorn, drive
each journey with wrk at saturation and at half of it, compare each saturated run with
the reference measured just before and just after it, and print one table.

    python -m bench.run [--scale 0.002] [--duration 10] [--connections 16]

Results go to stdout and to bench/results/<timestamp>.json. Needs the local PostgreSQL
(BENCH_DATABASE_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/choice_bench,
recreated on each run), the local Redis for the rate-limit counters (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/0), and wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from app.schema_migrations import upgrade_to_head
from bench.concurrency import ConcurrencyResult, many_budgets, one_budget
from bench.concurrency import print_results as print_concurrency
from bench.dataset import LOAD_STEPS, Generated, Sizes
from bench.journeys import JOURNEYS, REFERENCE, Journey, RequestLine, send_in_process

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVER_LOGS = RESULTS / "logs"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/choice_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PRODUCT_PORT, REFERENCE_PORT, SINGLE_WORKER_PORT = 5200, 5201, 5202
GUNICORN_WORKERS = 4
JOURNEY_SLICE_SECONDS, REFERENCE_SLICE_SECONDS = 2, 1


@dataclass
class Row:
    journey: str
    mode: str
    rps: float
    ratio_to_reference: float | None
    reference_rps: float | None  # the reference's req/s in slices between this one's
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    queries_per_request: float | None
    worker_rss_mb: float


def bench_redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)


def require_redis(url: str) -> None:
    """Stop before loading anything when the rate limiter's Redis does not answer."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        sys.exit(f"Redis at {url} does not answer ({exc}); start it or set BENCH_REDIS_URL")


def recreate_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')


def load(url: str, scale: float, seed: int) -> tuple[Generated, float]:
    started = time.perf_counter()
    engine = create_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    rng = random.Random(seed)
    generated = Generated()
    sizes = Sizes.at(scale)
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        for step in LOAD_STEPS:
            step(connection, sizes, rng, generated)
            connection.commit()
        connection.autocommit = True
        # The running ledger sums were filled by one UPDATE after the COPY, which wrote
        # every budget row again onto full pages. Rewritten, the table keeps its fillfactor's
        # room, as rows the API inserts do, so a booking's update of the row can be HOT.
        connection.execute("VACUUM FULL budgets")
        connection.execute("VACUUM ANALYZE")  # as autovacuum would: index-only scans work
    return generated, time.perf_counter() - started


def product_env(database_url: str, secret: str) -> dict[str, str]:
    """The production configuration from the README, pointed at the bench database.

    Several workers run, so the rate-limit counters are in Redis, as production needs
    them to be (per-worker counters in memory would be cheaper and wrong)."""
    return {
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": bench_redis_url(),
        "SECRET_KEY": secret,
        "PUBLIC_BASE_URL": "https://bench.invalid",
        "LOG_LEVEL": "WARNING",
        # The limiter still runs on every request (its cost is measured), but a handful
        # of synthetic users sending hundreds of requests a second must not be throttled.
        "RATE_LIMIT_PER_CALLER": "1000000/minute",
        "RATE_LIMIT_PER_CLIENT": "10000000/minute",
    }


def serve(
    app_spec: str,
    port: int,
    env: dict[str, str],
    workers: int = GUNICORN_WORKERS,
    source: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """gunicorn serving `app_spec` imported from the tree at `source`."""
    log = SERVER_LOGS / f"gunicorn-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        env={**os.environ, **env, "PYTHONPATH": str(source)},
        cwd=source,
        stderr=log.open("wb"),
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError as exc:
            if getattr(exc, "code", None) == 404:  # the reference has no /healthz
                return process
            time.sleep(0.2)
    process.kill()
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise RuntimeError(f"{app_spec} did not start on port {port}; {log}:\n{tail}")


def worker_rss_mb(master_pid: int) -> float:
    """The largest resident set of the gunicorn master's workers, in MiB."""
    return max(worker_rss_each(master_pid).values(), default=0.0)


def worker_rss_each(master_pid: int) -> dict[int, float]:
    """Each worker's resident set in MiB, by pid."""
    found: dict[int, float] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            found[int(status.parent.name)] = round(int(fields["VmRSS"].split()[0]) / 1024, 1)
    return found


def drive(
    lines: list[RequestLine],
    port: int,
    *,
    seconds: int,
    connections: int,
    delay_ms: int = 0,
    positions: list[int] | None = None,
) -> dict[str, Any]:
    """One wrk run; `positions` continues from where an earlier run's threads stopped."""
    with tempfile.TemporaryDirectory() as scratch:
        requests_file = Path(scratch) / "requests.tsv"
        summary_file = Path(scratch) / "summary.json"
        requests_file.write_text("\n".join("\t".join(line) for line in lines) + "\n")
        subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "bench" / "wrk_driver.lua"),
                f"http://127.0.0.1:{port}",
            ],
            env={
                **os.environ,
                "BENCH_REQUESTS": str(requests_file),
                "BENCH_SUMMARY": str(summary_file),
                "BENCH_DELAY_MS": str(delay_ms),
                "BENCH_THREADS": "2",
                "BENCH_POSITIONS": ",".join(str(p) for p in positions or []),
                "BENCH_SEED": str(secrets.randbelow(1_000_000_000)),
            },
            check=True,
            capture_output=True,
        )
        return dict(json.loads(summary_file.read_text()))


def queries_per_request(url: str, secret: str, lines: list[RequestLine], sample: int = 20) -> float:
    """Average SQL statements per request, counted in-process against the same database."""
    from app import create_app
    from app.config import ProductionConfig
    from app.db import get_db

    app = create_app(ProductionConfig, overrides=dict(product_env(url, secret)))
    counter = {"n": 0}

    def count(*_: Any) -> None:
        counter["n"] += 1

    engine = get_db(app).request_engine
    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    chosen = lines[-sample:]
    for i, line in enumerate(chosen):
        send_in_process(client, line, f"bench-count-{secrets.token_hex(8)}-{i}")
    event.remove(engine, "before_cursor_execute", count)
    engine.dispose()
    return round(counter["n"] / max(1, len(chosen)), 1)


def cpu_ns(pids: list[int]) -> dict[int, int]:
    """CPU time each process has used so far (schedstat's first field), in ns; a process
    that has exited is left out."""
    used = {}
    for pid in pids:
        try:
            used[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError):
            continue
    return used


def write_result(payload: dict[str, Any], *, prefix: str = "", suffix: str = "") -> Path:
    """`payload` as JSON in bench/results/<prefix><UTC timestamp><suffix>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result_file = RESULTS / f"{prefix}{stamp}{suffix}.json"
    result_file.write_text(json.dumps(payload, indent=2))
    print(f"written {result_file.relative_to(ROOT)}")
    return result_file


def requests_per_second(summary: dict[str, Any]) -> float:
    """The rate a wrk run's summary (`drive`) achieved."""
    return float(summary["requests"] / (summary["duration_us"] / 1e6))


def percentile(latency_counts: list[tuple[int, int]], p: float) -> int:
    """The nearest-rank percentile of (latency, count) pairs."""
    total = sum(count for _, count in latency_counts)
    if total == 0:
        return 0
    rank, seen = max(1, math.ceil(p / 100 * total)), 0
    for value, count in sorted(latency_counts):
        seen += count
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the counts add up to the total")


def merged(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of runs made in slices: requests, time and errors added up, and the
    percentiles of all their latencies together."""
    counts: Counter[int] = Counter()
    for summary in summaries:
        for value, count in summary["latency_us_counts"]:
            counts[value] += count
    latencies = sorted(counts.items())
    return {
        "requests": sum(s["requests"] for s in summaries),
        "duration_us": sum(s["duration_us"] for s in summaries),
        "status_errors": sum(s["status_errors"] for s in summaries),
        "socket_errors": sum(s["socket_errors"] for s in summaries),
        **{f"p{p}_us": percentile(latencies, p) for p in (50, 95, 99)},
        "positions": summaries[-1]["positions"],
        "latency_us_counts": latencies,
    }


def interleaved_with_reference(
    lines: list[RequestLine],
    port: int,
    reference_lines: list[RequestLine],
    *,
    seconds: int,
    connections: int,
    reference_port: int = REFERENCE_PORT,
    around_journey_slices: AbstractContextManager[Any] | None = None,
) -> tuple[dict[str, Any], float]:
    """A journey at saturation for `seconds`, measured in slices of JOURNEY_SLICE_SECONDS
    with the reference driven for REFERENCE_SLICE_SECONDS before, between and after them.

    This host's speed drifts by a third within minutes, and between two 20-second windows
    the reference alone has moved by 15%; slices a few seconds apart see the same host.
    Returns the journey's slices merged and the reference's req/s over all its slices.
    `around_journey_slices` is entered for each of the journey's slices (to meter them)."""
    reference = functools.partial(
        drive, reference_lines, reference_port, seconds=REFERENCE_SLICE_SECONDS
    )
    reference_slices = [reference(connections=connections)]
    journey_slices: list[dict[str, Any]] = []
    for _ in range(max(1, seconds // JOURNEY_SLICE_SECONDS)):
        with around_journey_slices or contextlib.nullcontext():
            journey_slices.append(
                drive(
                    lines,
                    port,
                    seconds=JOURNEY_SLICE_SECONDS,
                    connections=connections,
                    positions=journey_slices[-1]["positions"] if journey_slices else None,
                )
            )
        reference_slices.append(
            reference(connections=connections, positions=reference_slices[-1]["positions"])
        )
    return merged(journey_slices), requests_per_second(merged(reference_slices))


def measure(
    journey: Journey,
    lines: list[RequestLine],
    port: int,
    master_pid: int,
    args: argparse.Namespace,
    reference_lines: list[RequestLine] | None,
    queries: float | None,
) -> list[Row]:
    """Saturation, then (for a read) half of it. With `reference_lines`, the saturated run
    is measured in slices interleaved with the reference's (`interleaved_with_reference`)
    and compared with it."""
    rows = []
    reference_rps: float | None = None
    if reference_lines is None:
        saturated = drive(lines, port, seconds=args.duration, connections=args.connections)
    else:
        saturated, reference_rps = interleaved_with_reference(
            lines, port, reference_lines, seconds=args.duration, connections=args.connections
        )
    rps = requests_per_second(saturated)
    rows.append(
        _row(journey.name, "saturation", saturated, rps, reference_rps, queries, master_pid)
    )
    if not journey.is_write and reference_lines is not None:
        half = rps / 2
        # wrk has no fixed-rate mode: each connection waits so the total is about `half`.
        delay = max(1, int(args.connections * 1000 / half - 1000 * saturated["p50_us"] / 1e6))
        paced = drive(
            lines, port, seconds=args.duration, connections=args.connections, delay_ms=delay
        )
        paced_rps = requests_per_second(paced)
        rows.append(_row(journey.name, "half load", paced, paced_rps, None, queries, master_pid))
    return rows


def _row(
    name: str,
    mode: str,
    summary: dict[str, Any],
    rps: float,
    reference_rps: float | None,
    queries: float | None,
    master_pid: int,
) -> Row:
    return Row(
        journey=name,
        mode=mode,
        rps=round(rps, 1),
        ratio_to_reference=round(rps / reference_rps, 2) if reference_rps else None,
        reference_rps=round(reference_rps, 1) if reference_rps else None,
        p50_ms=round(summary["p50_us"] / 1000, 1),
        p95_ms=round(summary["p95_us"] / 1000, 1),
        p99_ms=round(summary["p99_us"] / 1000, 1),
        errors=summary["status_errors"] + summary["socket_errors"],
        queries_per_request=queries,
        worker_rss_mb=worker_rss_mb(master_pid),
    )


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'journey':<38} {'mode':<11} {'req/s':>8} {'x ref':>6} {'ref':>7} {'p50':>7} {'p95':>7} "
        f"{'p99':>7} {'err':>5} {'SQL/req':>8} {'RSS MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r.ratio_to_reference:.2f}" if r.ratio_to_reference is not None else "-"
        queries = f"{r.queries_per_request:.1f}" if r.queries_per_request is not None else "-"
        around = f"{r.reference_rps:.0f}" if r.reference_rps is not None else "-"
        print(
            f"{r.journey:<38} {r.mode:<11} {r.rps:>8.1f} {ratio:>6} {around:>7} {r.p50_ms:>7.1f} "
            f"{r.p95_ms:>7.1f} {r.p99_ms:>7.1f} {r.errors:>5} {queries:>8} {r.worker_rss_mb:>8.1f}"
        )
    print(
        "(latencies in ms; x ref: over the reference's req/s in slices before, between and "
        "after the journey's, 'ref')"
    )


def measure_concurrency(
    url: str, env: dict[str, str], generated: Generated, product_pid: int
) -> list[ConcurrencyResult]:
    """Concurrent bookings on one budget (money checked in SQL) and on many budgets, with the
    product's workers and with a single worker, to see throughput scale."""
    results = []
    one = one_budget(url, PRODUCT_PORT, generated, GUNICORN_WORKERS)
    if one is not None:
        results.append(one)
    results.append(many_budgets(PRODUCT_PORT, generated, GUNICORN_WORKERS))
    single = serve("app:create_app()", SINGLE_WORKER_PORT, env, workers=1)
    try:
        results.append(many_budgets(SINGLE_WORKER_PORT, generated, 1))
    finally:
        single.send_signal(signal.SIGTERM)
        single.wait(timeout=30)
    return results


def measure_soak(
    generated: Generated, rng: random.Random, product_pid: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Drive a mix of reads minute by minute; compare worker RSS after the first and last."""
    lines: list[RequestLine] = []
    for journey in JOURNEYS:
        if not journey.is_write:
            lines += journey.build(generated, rng)
    rng.shuffle(lines)
    minutes = max(2, args.soak // 60)
    samples = []
    for _ in range(minutes):
        drive(lines, PRODUCT_PORT, seconds=60, connections=args.connections)
        samples.append(sum(worker_rss_each(product_pid).values()))
    return {
        "seconds": minutes * 60,
        "first_minute": round(samples[0], 1),
        "last_minute": round(samples[-1], 1),
        "growth_mb": round(samples[-1] - samples[0], 1),
        "per_minute_total_rss_mb": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.002, help="1.0 = the full dataset")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", default=None, help="run only journeys whose name contains this")
    parser.add_argument(
        "--soak", type=int, default=0, help="also drive reads this many seconds; RSS first/last min"
    )
    parser.add_argument(
        "--no-concurrency", action="store_true", help="skip the concurrent bookings measurement"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    require_redis(bench_redis_url())
    recreate_database(url)
    generated, load_seconds = load(url, args.scale, args.seed)
    print(f"dataset at scale {args.scale} loaded in {load_seconds:.1f} s: {Sizes.at(args.scale)}")

    secret = secrets.token_urlsafe(48)
    env = product_env(url, secret)
    product = serve("app:create_app()", PRODUCT_PORT, env)
    reference = serve("bench.reference_app:create_reference_app()", REFERENCE_PORT, env)
    rng = random.Random(args.seed)
    generated.secret = secret
    rows: list[Row] = []
    concurrency: list[ConcurrencyResult] = []
    soak: dict[str, Any] = {}
    try:
        ref_lines = REFERENCE.build(generated, rng)
        rows += measure(REFERENCE, ref_lines, REFERENCE_PORT, reference.pid, args, None, None)
        for journey in JOURNEYS:
            if args.only and args.only not in journey.name:
                continue
            lines = journey.build(generated, rng)
            if not lines:
                print(f"skipped {journey.name}: no data for it at this scale")
                continue
            queries = queries_per_request(url, secret, lines)
            if journey.is_write:  # those were used up by counting
                lines = lines[:-20] or lines
            rows += measure(journey, lines, PRODUCT_PORT, product.pid, args, ref_lines, queries)
        if not args.no_concurrency:
            concurrency = measure_concurrency(url, env, generated, product.pid)
        if args.soak:
            soak = measure_soak(generated, rng, product.pid, args)
    finally:
        for process in (product, reference):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    print_table(rows)
    if concurrency:
        print_concurrency(concurrency)
    if soak:
        print(
            f"soak {soak['seconds']} s: worker RSS after the first minute {soak['first_minute']} "
            f"MiB, after the last {soak['last_minute']} MiB (growth {soak['growth_mb']} MiB)"
        )
    write_result(
        {
            "scale": args.scale,
            "sizes": asdict(Sizes.at(args.scale)),
            "load_seconds": load_seconds,
            "cpu_count": os.cpu_count(),
            "rows": [asdict(r) for r in rows],
            "concurrency": [c.as_dict() for c in concurrency],
            "soak": soak,
        }
    )


if __name__ == "__main__":
    main()
