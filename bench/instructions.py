"""`make bench-instructions`: CPU instructions the worker executes per request, by journey.

    python -m bench.instructions [--scale 0.01] [--requests 40] [--warmup 30] [--only TEXT]

Throughput on a shared 2-core machine moves with the host (the same code measured 646 and
1,762 reference requests a second on two days). Instructions do not: valgrind's callgrind
counts them, and the same code, data and requests give the same count to within 0.1%,
whatever else the machine is doing. So this is the figure to compare a change by; the
wrk run (`make bench`) is the one that says what users would see.

Each journey (and the reference app) runs in its own process under callgrind, in-process
through Flask's test client with the production configuration: PostgreSQL and Redis run
outside it and are not counted, nor is gunicorn's HTTP parsing. After the warm-up requests
(caches filled, statements compiled) the garbage collector is paused and instrumentation
is switched on for the measured requests only (`callgrind_control -i on/off`).

A second pass over other requests of the same journey, outside valgrind, counts the SQL
statements a request runs and the CPU time the PostgreSQL backends serving them used
(/proc/<pid>/schedstat, microseconds a request): the database's share of the cost, which
the worker's instructions do not show. PostgreSQL's background processes are not included,
and this figure moves with the host as a time does.

Needs valgrind, the local PostgreSQL (the `choice_bench` database is recreated, as
`make bench` does) and Redis. Prints a table and writes bench/results/instructions-<time>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.journeys import JOURNEYS, REFERENCE, Journey, RequestLine, send_in_process
from bench.run import (
    DEFAULT_DATABASE_URL,
    ROOT,
    bench_redis_url,
    cpu_ns,
    load,
    product_env,
    recreate_database,
    require_redis,
    write_result,
)

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@dataclass(frozen=True)
class Measured:
    journey: str
    requests: int
    statements_per_request: float
    thousand_instructions_per_request: int
    times_reference: float | None
    database_cpu_us_per_request: int
    errors: int


def _child_app(kind: str) -> tuple[Any, Any]:
    """The app to measure and the engine its requests use."""
    if kind == "reference":
        from bench.reference_app import create_reference_app

        app = create_reference_app()
        return app, app.extensions["engine"]
    from app import create_app
    from app.db import get_db

    app = create_app()  # as gunicorn builds it: the configuration comes from the environment
    return app, get_db(app).request_engine


def _send(client: Any, line: RequestLine, index: int) -> int:
    return send_in_process(client, line, f"bench-instructions-{index}-{secrets.token_hex(6)}")


def _callgrind(switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True)


def _backend_cpu_ns(pids: set[int]) -> int:
    """CPU time the given PostgreSQL backends have used (a KeyError if one is gone)."""
    used = cpu_ns(list(pids))
    return sum(used[pid] for pid in pids)


def child(kind: str, mode: str, lines_file: Path, warmup: int, result_file: Path) -> None:
    """Warm up, then measure the rest of the lines in one of three modes:

    - "instructions" (inside valgrind): instrumentation on for the measured requests only,
      and nothing else hooked in, so the count is the requests' own;
    - "database" (outside valgrind: under it, PostgreSQL's backend idles between
      statements far longer than it would and each wake-up costs it more): SQL statements
      a request and the CPU time of the PostgreSQL backends that served them;
    - "profile": cProfile's view of the measured requests, and the first one's SQL.
    """
    from sqlalchemy import event

    lines: list[RequestLine] = [tuple(x) for x in json.loads(lines_file.read_text())]
    app, engine = _child_app(kind)
    client = app.test_client()
    statements = {"n": 0}
    backends: set[int] = set()
    show_sql = {"on": False}

    def count(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements["n"] += 1
        if show_sql["on"]:
            print(f"-- statement {statements['n']}\n{sql}\n")

    def note_backend(dbapi_connection: Any, *_: Any) -> None:
        backends.add(dbapi_connection.info.backend_pid)

    by_statement: dict[str, int] = {}
    started_at: dict[str, int] = {}

    def statement_started(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        started_at["ns"] = _backend_cpu_ns({conn.connection.dbapi_connection.info.backend_pid})

    def statement_ended(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        used = _backend_cpu_ns({conn.connection.dbapi_connection.info.backend_pid})
        label = _statement_label(sql)
        by_statement[label] = by_statement.get(label, 0) + used - started_at["ns"]

    if mode != "instructions":
        event.listen(engine, "before_cursor_execute", count)
        event.listen(engine, "checkout", note_backend)
    if mode == "database":
        event.listen(engine, "before_cursor_execute", statement_started)
        event.listen(engine, "after_cursor_execute", statement_ended)
    warm, measured = lines[:warmup], lines[warmup:]
    for index, line in enumerate(warm):
        _send(client, line, index)
    statements["n"] = 0
    by_statement.clear()
    gc.collect()
    gc.disable()
    database_cpu = _backend_cpu_ns(backends)
    if mode == "instructions":
        _callgrind("on")
        statuses = [_send(client, line, warmup + i) for i, line in enumerate(measured)]
        _callgrind("off")
    elif mode == "profile":
        show_sql["on"] = True
        _send(client, measured[0], warmup)
        show_sql["on"] = False
        # CPU time, not wall time: waiting for PostgreSQL's answers is its cost, not ours.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        statuses = [_send(client, line, warmup + 1 + i) for i, line in enumerate(measured[1:])]
        profiler.disable()
        if os.environ.get("BENCH_PSTATS"):  # for a closer look: python -m pstats FILE-<kind>
            profiler.dump_stats(f"{os.environ['BENCH_PSTATS']}-{kind}")
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    else:
        statuses = [_send(client, line, warmup + i) for i, line in enumerate(measured)]
    database_cpu = _backend_cpu_ns(backends) - database_cpu
    gc.enable()
    result_file.write_text(
        json.dumps(
            {
                "requests": len(measured),
                "errors": sum(1 for status in statuses if status >= 400),
                "statements": statements["n"] / len(measured),
                "database_cpu_ns": database_cpu,
                "database_cpu_ns_by_statement": by_statement,
            }
        )
    )


def _statement_label(sql: str) -> str:
    """A statement's kind and first table: "INSERT INTO ledger_entries", "read: bookings"."""
    words = sql.split()
    if words[0] != "SELECT":
        return " ".join(words[:3])
    depth = 0  # the statement's own FROM, not a sub-select's
    for word, following in pairwise(words):
        if word == "FROM" and depth == 0:
            return "read: " + following
        depth += word.count("(") - word.count(")")
    return " ".join(words[:3])


def _lines_for(
    journey: Journey, generated: Any, rng: random.Random, needed: int, passes: int
) -> list[list[Any]]:
    """The lines for each pass; a write is never sent twice (a replay would not measure it)."""
    lines = journey.build(generated, rng)
    if not lines:
        return []
    if journey.is_write:
        if len(lines) < needed * passes:
            return []
        return [lines[i * needed : (i + 1) * needed] for i in range(passes)]
    return [[lines[i % len(lines)] for i in range(needed)]] * passes


def _valgrind() -> list[str]:
    """callgrind, counting only while switched on; BENCH_CALLGRIND_OUT=FILE keeps its
    per-function counts for a closer look (callgrind_annotate --inclusive=yes FILE)."""
    out = os.environ.get("BENCH_CALLGRIND_OUT", "/dev/null")
    return ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]


def measure(
    journey: Journey, lines: list[Any], warmup: int, env: dict[str, str], mode: str
) -> dict[str, Any]:
    kind = "reference" if journey is REFERENCE else "product"
    with tempfile.TemporaryDirectory() as folder:
        lines_file, result_file = Path(folder) / "lines.json", Path(folder) / "result.json"
        lines_file.write_text(json.dumps(lines))
        completed = subprocess.run(
            [
                *(_valgrind() if mode == "instructions" else []),
                sys.executable,
                "-m",
                "bench.instructions",
                "--child",
                kind,
                "--mode",
                mode,
                "--lines",
                str(lines_file),
                "--warmup",
                str(warmup),
                "--result",
                str(result_file),
            ],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=mode != "profile",
            text=True,
        )
        if mode == "profile":
            return {}
        found = _COLLECTED.findall(completed.stderr)
        failed = mode == "instructions" and not found
        if failed or completed.returncode != 0 or not result_file.exists():
            tail = "\n".join(completed.stderr.splitlines()[-20:])
            raise RuntimeError(f"{journey.name}: the measured process failed:\n{tail}")
        result = dict(json.loads(result_file.read_text()))
    if mode == "instructions":
        result["instructions"] = int(found[-1])
    return result


def print_by_statement(name: str, database: dict[str, Any], requests: int) -> None:
    """Where a journey's database CPU goes; the rest is commits and reading each message."""
    by_statement: dict[str, int] = database["database_cpu_ns_by_statement"]
    print(f"== {name}: PostgreSQL CPU a request, microseconds")
    for label, ns in sorted(by_statement.items(), key=lambda item: -item[1]):
        print(f"{ns / 1000 / requests:>8.0f}  {label}")
    rest = database["database_cpu_ns"] - sum(by_statement.values())
    print(f"{rest / 1000 / requests:>8.0f}  (commits, and between statements)")


def print_table(rows: list[Measured]) -> None:
    header = (
        f"{'journey':<38} {'statements':>10} {'k instr/request':>16} {'x reference':>12} "
        f"{'PostgreSQL CPU us':>18}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        times = "-" if row.times_reference is None else f"{row.times_reference:.1f}"
        errors = f"  ({row.errors} errors)" if row.errors else ""
        print(
            f"{row.journey:<38} {row.statements_per_request:>10g} "
            f"{row.thousand_instructions_per_request:>16,} {times:>12} "
            f"{row.database_cpu_us_per_request:>18,}{errors}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="1.0 = the full dataset")
    parser.add_argument("--requests", type=int, default=40, help="measured requests per journey")
    parser.add_argument("--warmup", type=int, default=30, help="requests before measuring")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--only", default=None, help="measure only journeys whose name has this")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="no valgrind: print cProfile's view of the measured requests of each journey",
    )
    parser.add_argument(
        "--by-statement",
        action="store_true",
        help="also print the PostgreSQL backends' CPU a request by statement",
    )
    parser.add_argument("--child", choices=["product", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--lines", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.mode, args.lines, args.warmup, args.result)
        return
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install valgrind")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    require_redis(bench_redis_url())
    recreate_database(url)
    generated, load_seconds = load(url, args.scale, args.seed)
    print(f"dataset at scale {args.scale} loaded in {load_seconds:.1f} s")
    secret = secrets.token_urlsafe(48)
    generated.secret = secret
    env = {**product_env(url, secret), "LOG_LEVEL": "ERROR"}
    rng = random.Random(args.seed)
    needed = args.warmup + args.requests
    journeys = [REFERENCE] + [j for j in JOURNEYS if not args.only or args.only in j.name]
    planned = [(j, _lines_for(j, generated, rng, needed, passes=2)) for j in journeys]
    for journey, passes in planned:
        if not passes:
            print(f"skipped {journey.name}: not enough data for it at this scale")
    planned = [(j, passes) for j, passes in planned if passes]

    if args.profile:
        for journey, passes in planned:
            print(f"== {journey.name}")
            measure(journey, passes[0], args.warmup, env, "profile")
        return
    started = time.perf_counter()
    # Instruction counts do not depend on what else runs, so both cores are used; the
    # database's CPU is measured afterwards, one journey at a time.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(
            pool.map(lambda jp: measure(jp[0], jp[1][0], args.warmup, env, "instructions"), planned)
        )
    for (journey, passes), result in zip(planned, results, strict=True):
        database = measure(journey, passes[1], args.warmup, env, "database")
        result.update(
            statements=database["statements"], database_cpu_ns=database["database_cpu_ns"]
        )
        result["errors"] += database["errors"]
        if args.by_statement:
            print_by_statement(journey.name, database, result["requests"])
    per_request = {
        journey.name: result["instructions"] / max(1, result["requests"])
        for (journey, _), result in zip(planned, results, strict=True)
    }
    reference = per_request[REFERENCE.name]
    rows = [
        Measured(
            journey=journey.name,
            requests=result["requests"],
            statements_per_request=result["statements"],
            thousand_instructions_per_request=round(per_request[journey.name] / 1000),
            database_cpu_us_per_request=round(
                result["database_cpu_ns"] / 1000 / max(1, result["requests"])
            ),
            times_reference=None
            if journey is REFERENCE
            else round(per_request[journey.name] / reference, 2),
            errors=result["errors"],
        )
        for (journey, _), result in zip(planned, results, strict=True)
    ]
    print_table(rows)
    print(f"measured in {time.perf_counter() - started:.0f} s")
    write_result(
        {
            "scale": args.scale,
            "requests": args.requests,
            "warmup": args.warmup,
            "cpu_count": os.cpu_count(),
            "rows": [asdict(row) for row in rows],
        },
        prefix="instructions-",
    )


if __name__ == "__main__":
    main()
