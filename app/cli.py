"""`flask` commands for operators and developers."""

from __future__ import annotations

import os

import click
from flask import Flask

from app.db import get_db
from app.demo import demo_summary, seed_demo
from app.idempotency import purge_expired_idempotency_records
from app.schema_migrations import upgrade_to_head
from mobile_contract.cli import register_contract_cli


def register_cli(app: Flask) -> None:
    """Attach our commands to the app's CLI."""
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

    @app.cli.command("purge-idempotency-keys")
    def purge_idempotency_keys() -> None:
        """Delete Idempotency-Key records past their retention."""
        session = get_db().session_factory()
        try:
            click.echo(f"purged {purge_expired_idempotency_records(session)} records")
        finally:
            session.close()
