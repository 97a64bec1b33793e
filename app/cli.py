"""`flask` commands for operators and developers."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import click
from flask import Flask, current_app

from app.db import get_db, utcnow
from app.demo import demo_summary, seed_demo
from app.idempotency import purge_expired_idempotency_records
from app.schema_migrations import upgrade_to_head
from mobile_contract.cli import register_contract_cli


def register_cli(app: Flask) -> None:
    """Attach our commands to the app's CLI."""
    from auth.cli import register_auth_cli
    from budgets.payments.cli import register_payment_commands

    register_auth_cli(app)
    register_payment_commands(app)
    register_contract_cli(app)

    @app.cli.command("upgrade-db")
    def upgrade_db() -> None:
        """Apply database migrations up to head."""
        upgrade_to_head(get_db().engine)
        click.echo("database at head")

    @app.cli.command("seed-demo")
    @click.option("--base-url", default=None, help="Where the API is served (for redirect URIs).")
    def seed_demo_command(base_url: str | None) -> None:
        """Load the demo dataset (idempotent) and print the demo logins."""
        base = base_url or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
        session = get_db().session_factory()
        try:
            seed_demo(session, base_url=base)
        finally:
            session.close()
        click.echo(demo_summary(base))

    @app.cli.command("apply-retention")
    @click.option("--today", default=None, help="Apply as of this date (YYYY-MM-DD); default now.")
    def apply_retention_command(today: str | None) -> None:
        """Delete or pseudonymise records past their retention period (run daily)."""
        from app.data_protection.retention import apply_retention

        now = utcnow() if today is None else datetime.fromisoformat(today).replace(tzinfo=UTC)
        session = get_db().session_factory()
        try:
            report = apply_retention(
                session, now=now, settings=current_app.config["RETENTION_DAYS"]
            )
        finally:
            session.close()
        click.echo(json.dumps(report.as_dict()))

    @app.cli.command("run-budget-tasks")
    def run_budget_tasks() -> None:
        """Apply budget changes that have fallen due and release scheduled money (daily)."""
        from app.db import utcnow
        from budgets.funding.changes import run_daily_budget_tasks

        session = get_db().session_factory()
        try:
            click.echo(run_daily_budget_tasks(session, today=utcnow().date()))
        finally:
            session.close()

    @app.cli.command("purge-idempotency-keys")
    def purge_idempotency_keys() -> None:
        """Delete Idempotency-Key records past their retention."""
        session = get_db().session_factory()
        try:
            click.echo(f"purged {purge_expired_idempotency_records(session)} records")
        finally:
            session.close()
