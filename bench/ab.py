"""Two commits served side by side on one loaded dataset, driven at once and in turns.

    python -m bench.ab BASE [HEAD] [--scale 1] [--rounds 6] [--only balances --only book]
        [--mode both|together|turns]

This host's speed drifts by a third within minutes, so two full `bench.run` runs taken
half an hour apart cannot tell a 10% change from the drift. Here both commits run against
the same database at the same time (each from its own git worktree, on its own port), and
each round drives them both at once, half the connections each, so that whatever the host
does it does to both (`Together`); and then, in turns, one and then the other back to
back, alternating which goes first, each in slices with the reference's between them
(bench/run.py), with the CPU each used per request.

Both commits must share the database schema: the dataset is loaded once, by this tree.
Results go to stdout and to bench/results/<timestamp>-ab-<base>-vs-<head>.json.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from bench.journeys import JOURNEYS, REFERENCE, RequestLine
from bench.run import (
    DEFAULT_DATABASE_URL,
    ROOT,
    bench_redis_url,
    cpu_ns,
    drive,
    interleaved_with_reference,
    load,
    product_env,
    recreate_database,
    requests_per_second,
    require_redis,
    serve,
    worker_rss_each,
    write_result,
)

BASE_PORT, HEAD_PORT, REFERENCE_PORT = 5300, 5301, 5302
STEAL, GUEST = 7, 8  # fields of /proc/stat's cpu line; guest time is counted in user too
DEFAULT_JOURNEYS = ("balances", "plan read", "book an offer")


@dataclass
class Turn:
    journey: str
    round: int
    side: str  # "base" or "head"
    commit: str
    rps: float
    reference_rps: float  # the reference in slices between the turn's (bench/run.py)
    p50_ms: float
    p99_ms: float
    errors: int
    worker_cpu_us: float  # CPU the serving workers used, per request
    postgres_cpu_us: float  # CPU every PostgreSQL process used, per request
    steal_percent: float  # of the machine's CPU time, taken by the host meanwhile
    worker_system_percent: float  # of the workers' CPU time, spent in the kernel

    @property
    def ratio(self) -> float:
        return self.rps / self.reference_rps


def resolve(revision: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def worktree(commit: str, path: Path) -> Path:
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), commit],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return path


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def remove_worktree(path: Path) -> None:
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True
    )


def cpu_used_since(before: dict[int, int], after: dict[int, int]) -> int:
    """CPU time used between two readings, a process started meanwhile counted in full."""
    return sum(ns - before.get(pid, 0) for pid, ns in after.items())


def user_and_system_ticks(pids: list[int]) -> tuple[int, int]:
    """utime and stime of the processes (/proc/PID/stat), in clock ticks."""
    user = system = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])
    return user, system


def cpu_times() -> list[int]:
    """The machine's CPU time by kind so far (/proc/stat's first line, in ticks)."""
    return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def steal_percent(spent: list[int]) -> float:
    """The share of the machine's CPU time (ticks by kind, as `cpu_times`) the host took."""
    return 100 * spent[STEAL] / max(1, sum(spent[:GUEST]))


def children(master_pid: int) -> list[int]:
    return [int(pid) for pid in worker_rss_each(master_pid)]


def postgres_processes() -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


class SliceMeter:
    """CPU used by the serving workers and by PostgreSQL, and the host's steal, added up
    over every `with` block: the journey's slices, not the reference's between them."""

    def __init__(self, master_pid: int) -> None:
        self.master_pid = master_pid
        self.worker_ns = self.postgres_ns = 0
        self.machine_spent = [0] * len(cpu_times())
        self.worker_user = self.worker_system = 0

    def __enter__(self) -> SliceMeter:
        workers = children(self.master_pid)
        self._workers = cpu_ns(workers)
        self._worker_split = user_and_system_ticks(workers)
        self._postgres = cpu_ns(postgres_processes())
        self._machine = cpu_times()
        return self

    def __exit__(self, *_: object) -> None:
        # PostgreSQL starts a backend for each new connection, so its processes are listed
        # again at the end; a worker restarted meanwhile would be missed, and is rare.
        workers = children(self.master_pid)
        self.worker_ns += cpu_used_since(self._workers, cpu_ns(workers))
        self.postgres_ns += cpu_used_since(self._postgres, cpu_ns(postgres_processes()))
        user, system = user_and_system_ticks(workers)
        self.worker_user += user - self._worker_split[0]
        self.worker_system += system - self._worker_split[1]
        spent = zip(self._machine, cpu_times(), strict=True)
        self.machine_spent = [
            m + b - a for m, (a, b) in zip(self.machine_spent, spent, strict=True)
        ]

    def per_request(self, requests: int) -> dict[str, float]:
        return {
            "worker_cpu_us": self.worker_ns / 1000 / max(1, requests),
            "postgres_cpu_us": self.postgres_ns / 1000 / max(1, requests),
            "steal_percent": steal_percent(self.machine_spent),
            "worker_system_percent": 100
            * self.worker_system
            / max(1, self.worker_user + self.worker_system),
        }


def turn(
    lines: list[RequestLine],
    port: int,
    master_pid: int,
    reference_lines: list[RequestLine],
    seconds: int,
    connections: int,
) -> tuple[dict[str, Any], float, dict[str, float]]:
    meter = SliceMeter(master_pid)
    summary, reference_rps = interleaved_with_reference(
        lines,
        port,
        reference_lines,
        seconds=seconds,
        connections=connections,
        reference_port=REFERENCE_PORT,
        around_journey_slices=meter,
    )
    return summary, reference_rps, meter.per_request(summary["requests"])


def print_turns(turns: list[Turn]) -> None:
    for t in turns:
        print(
            f"{t.journey:<32} round {t.round} {t.side:<4} {t.commit}: {t.rps:8.1f} req/s "
            f"(ref {t.reference_rps:7.1f}, x {t.ratio:.2f}) p50 {t.p50_ms:6.1f} ms "
            f"p99 {t.p99_ms:6.1f} ms errors {t.errors}; CPU/request: workers "
            f"{t.worker_cpu_us:.0f} us, PostgreSQL {t.postgres_cpu_us:.0f} us; "
            f"workers in the kernel {t.worker_system_percent:.0f}%; steal {t.steal_percent:.1f}%",
            flush=True,
        )


def paired(turns: list[Turn], journey: str) -> list[tuple[float, float]]:
    """(base req/s, head req/s) of each round of a journey, the two driven back to back."""
    by_round: dict[int, dict[str, float]] = {}
    for t in turns:
        if t.journey == journey:
            by_round.setdefault(t.round, {})[t.side] = t.rps
    return [
        (sides["base"], sides["head"])
        for _, sides in sorted(by_round.items())
        if {"base", "head"} <= sides.keys()
    ]


@dataclass
class Together:
    """One round with both commits driven at the same moment, half the connections each:
    whatever the host does then, it does to both, so head/base is the ratio of their
    costs on this machine (the two share its CPU and its PostgreSQL). Both are served by
    the same number of workers: the CPU is shared by process, so more workers would take
    a larger share, whatever their code."""

    journey: str
    round: int
    base_rps: float
    head_rps: float
    errors: int

    @property
    def head_over_base(self) -> float:
        return self.head_rps / self.base_rps


def together(
    lines: dict[str, list[RequestLine]],
    ports: dict[str, int],
    seconds: int,
    connections: int,
    order: tuple[str, str],
) -> dict[str, dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = {
            side: pool.submit(
                drive, lines[side], ports[side], seconds=seconds, connections=connections // 2
            )
            for side in order
        }
        return {side: future.result() for side, future in running.items()}


def print_together(rounds: list[Together]) -> None:
    print(f"\n{'journey':<32} both at once: base, head req/s each round; mean head/base")
    for name in dict.fromkeys(r.journey for r in rounds):
        mine = [r for r in rounds if r.journey == name]
        each = "  ".join(f"{r.base_rps:.0f}, {r.head_rps:.0f}" for r in mine)
        errors = sum(r.errors for r in mine)
        print(
            f"{name:<32} {each}; {mean(r.head_over_base for r in mine):.3f} (errors {errors})",
            flush=True,
        )


def print_summary(turns: list[Turn]) -> None:
    print(
        f"\n{'journey':<32} {'side':<5} {'req/s each round':<28} {'mean':>7} {'x ref':>6} "
        f"{'worker us':>9} {'PG us':>6}"
    )
    for name in dict.fromkeys(t.journey for t in turns):
        for side in ("base", "head"):
            mine = [t for t in turns if t.journey == name and t.side == side]
            rates = " ".join(f"{t.rps:.0f}" for t in mine)
            print(
                f"{name:<32} {side:<5} {rates:<28} {mean(t.rps for t in mine):7.1f} "
                f"{mean(t.ratio for t in mine):6.2f} "
                f"{mean(t.worker_cpu_us for t in mine):9.0f} "
                f"{mean(t.postgres_cpu_us for t in mine):6.0f}"
            )
        pairs = paired(turns, name)
        ahead = sum(1 for b, h in pairs if h > b)
        print(f"{name:<32} head ahead in {ahead} of {len(pairs)} rounds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare against")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per turn")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--only",
        action="append",
        help=f"journeys whose name contains this (repeatable; default {DEFAULT_JOURNEYS})",
    )
    parser.add_argument(
        "--mode",
        choices=("turns", "together", "both"),
        default="both",
        help="drive the commits in alternating turns, both at once, or both ways",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    wanted = args.only or list(DEFAULT_JOURNEYS)
    journeys = [j for j in JOURNEYS if any(w in j.name for w in wanted)]
    commits = {"base": resolve(args.base), "head": resolve(args.head)}

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    require_redis(bench_redis_url())
    recreate_database(url)
    generated, load_seconds = load(url, args.scale, args.seed)
    print(f"scale {args.scale} loaded in {load_seconds:.0f} s; {commits}", flush=True)
    secret = secrets.token_urlsafe(48)
    generated.secret = secret
    env = product_env(url, secret)
    rng = random.Random(args.seed)

    turns: list[Turn] = []
    at_once: list[Together] = []
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as scratch:
        trees = {side: worktree(commit, Path(scratch) / side) for side, commit in commits.items()}
        ports = {"base": BASE_PORT, "head": HEAD_PORT}
        servers: dict[str, subprocess.Popen[bytes]] = {}

        def restart(order: tuple[str, str]) -> None:
            """Both commits' servers, started afresh in this order. Driven at once, the
            server started second served 3-10% more than the first, the same code on
            both (A/A runs, either order): each round of `together` swaps the order."""
            for side in order:
                if side in servers:
                    stop(servers.pop(side))
            for side in order:
                servers[side] = serve("app:create_app()", ports[side], env, source=trees[side])
            for side in order:  # every worker's caches warm before anything is measured
                drive(warm_up_lines, ports[side], seconds=2, connections=args.connections)

        # Reads only: a claim confirmed while warming up would be a 409 when measured.
        warm_up_lines = [
            line for j in JOURNEYS if not j.is_write for line in j.build(generated, rng)[:50]
        ]
        try:
            restart(("base", "head"))
            servers["reference"] = serve(
                "bench.reference_app:create_reference_app()", REFERENCE_PORT, env
            )
            reference_lines = REFERENCE.build(generated, rng)
            for journey in journeys:
                for round_number in range(args.rounds if args.mode != "turns" else 0):
                    order = ("base", "head") if round_number % 2 == 0 else ("head", "base")
                    restart(order)
                    summaries = together(
                        {side: journey.build(generated, rng) for side in ("base", "head")},
                        ports,
                        args.duration,
                        args.connections,
                        order,
                    )
                    at_once.append(
                        Together(
                            journey=journey.name,
                            round=round_number,
                            base_rps=round(requests_per_second(summaries["base"]), 1),
                            head_rps=round(requests_per_second(summaries["head"]), 1),
                            errors=sum(
                                s["status_errors"] + s["socket_errors"] for s in summaries.values()
                            ),
                        )
                    )
                    print_together(at_once[-1:])
                for round_number in range(args.rounds if args.mode != "together" else 0):
                    order = ("base", "head") if round_number % 2 == 0 else ("head", "base")
                    for side in order:
                        # Writes use their lines up (each booking is new), so every turn
                        # gets its own; reads get the same kind of lines each time.
                        lines = journey.build(generated, rng)
                        summary, reference_rps, cpu = turn(
                            lines,
                            ports[side],
                            servers[side].pid,
                            reference_lines,
                            args.duration,
                            args.connections,
                        )
                        turns.append(
                            Turn(
                                journey=journey.name,
                                round=round_number,
                                side=side,
                                commit=commits[side],
                                rps=round(requests_per_second(summary), 1),
                                reference_rps=round(reference_rps, 1),
                                p50_ms=round(summary["p50_us"] / 1000, 1),
                                p99_ms=round(summary["p99_us"] / 1000, 1),
                                errors=summary["status_errors"] + summary["socket_errors"],
                                worker_cpu_us=round(cpu["worker_cpu_us"]),
                                postgres_cpu_us=round(cpu["postgres_cpu_us"]),
                                steal_percent=round(cpu["steal_percent"], 1),
                                worker_system_percent=round(cpu["worker_system_percent"], 1),
                            )
                        )
                        print_turns(turns[-1:])
        finally:
            for process in servers.values():
                stop(process)
            for tree in trees.values():
                remove_worktree(tree)

    if turns:
        print_summary(turns)
    if at_once:
        print_together(at_once)
    write_result(
        {
            "scale": args.scale,
            "commits": commits,
            "load_seconds": load_seconds,
            "turns": [asdict(t) | {"ratio": round(t.ratio, 3)} for t in turns],
            "together": [
                asdict(r) | {"head_over_base": round(r.head_over_base, 3)} for r in at_once
            ],
        },
        suffix=f"-ab-{commits['base']}-vs-{commits['head']}",
    )


if __name__ == "__main__":
    main()
