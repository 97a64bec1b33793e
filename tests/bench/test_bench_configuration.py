"""The benchmark serves the product with the README's production configuration; if that
configuration stops booting (a new required setting), `make bench` must not find out only
when its gunicorn workers die."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from bench.run import DEFAULT_DATABASE_URL, ROOT, product_env


def test_the_benchmark_environment_boots_the_production_app() -> None:
    env = {**os.environ, **product_env(DEFAULT_DATABASE_URL, secrets.token_urlsafe(48))}

    # A fresh interpreter, as gunicorn gives: configuration is read from the environment.
    booted = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app import create_app; c = create_app().config;"
            "print(c['ENV_NAME'], c['RATELIMIT_STORAGE_URI'])",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert booted.returncode == 0, booted.stderr[-2000:]
    env_name, limiter_storage = booted.stdout.strip().splitlines()[-1].split()
    assert env_name == "production"
    # Several gunicorn workers: counters kept in each worker's memory would let every
    # caller through four times the limit, and would not cost what production costs.
    assert limiter_storage.startswith("redis://")
