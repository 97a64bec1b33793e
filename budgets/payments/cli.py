"""`flask pay-pending` (the payments worker) and `flask reconcile-payments`."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import click
from flask import Flask

from app.db import get_db, utcnow
from budgets.payments.extension import payment_gateway, retry_policy
from budgets.payments.gateway import GatewayError
from budgets.payments.reconciliation import reconcile
from budgets.payments.worker import drain_once

log = logging.getLogger(__name__)


def register_payment_commands(app: Flask) -> None:
    """Attach the payments commands to the app's CLI."""

    @app.cli.command("pay-pending")
    @click.option("--once", is_flag=True, help="One pass, then exit (for cron).")
    @click.option("--interval", default=10.0, show_default=True, help="Seconds between passes.")
    @click.option("--limit", default=100, show_default=True, help="Most payments per pass.")
    @click.option("--max-passes", default=0, hidden=True, help="Stop after N passes (tests).")
    def pay_pending(once: bool, interval: float, limit: int, max_passes: int) -> None:
        """Pay confirmed claims; retry pending payments and refunds with backoff."""
        gateway, retry = payment_gateway(), retry_policy()
        passes, failures = 0, 0
        while True:
            session = get_db().session_factory()
            try:
                report = drain_once(session, gateway=gateway, retry=retry, limit=limit)
                failures = 0
                if report.tried or once:
                    summary = {
                        "claims": report.claims,
                        "payments": report.payments,
                        "refunds": report.refunds,
                    }
                    click.echo(json.dumps(summary))
            except Exception:  # the database may be away; back off and try again
                failures += 1
                log.exception("payments pass failed")
                if once:
                    raise
            finally:
                session.close()
            passes += 1
            if once or (max_passes and passes >= max_passes):
                return
            time.sleep(min(interval * 2**failures, retry.max_seconds))

    @app.cli.command("reconcile-payments")
    @click.option("--days", default=30, show_default=True, help="Payments of the last N days.")
    def reconcile_payments(days: int) -> None:
        """Compare our payments with Stripe's transfers; exit 1 if they disagree."""
        session = get_db().session_factory()
        try:
            mismatches = reconcile(
                session, gateway=payment_gateway(), since=utcnow() - timedelta(days=days)
            )
        except GatewayError as exc:
            raise click.ClickException(f"Stripe could not be asked: {exc}") from exc
        finally:
            session.close()
        for mismatch in mismatches:
            click.echo(json.dumps(mismatch.__dict__))
        click.echo(f"{len(mismatches)} mismatch(es)")
        if mismatches:
            raise SystemExit(1)
