"""`flask` commands that write the contract, check it for breaking changes, and release it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import Flask

from app.db import get_db, utcnow
from app.sync import purge_tombstones
from mobile_contract.compat import find_breaking_changes
from mobile_contract.document import (
    OPENAPI_PATH,
    RELEASES_DIR,
    latest_release,
    live_document,
    load,
    render,
    version_key,
)
from mobile_contract.notifications.push import sender_named
from mobile_contract.notifications.service import push_pending


def register_contract_cli(app: Flask) -> None:
    """Attach the contract, push and sync commands to the app's CLI."""

    @app.cli.command("send-pushes")
    @click.option("--hours", default=24, show_default=True, help="Only notifications this recent.")
    def send_pushes(hours: int) -> None:
        """Push stored notifications not yet pushed to their users' devices (run every minute)."""
        session = get_db().session_factory()
        try:
            count = push_pending(
                session,
                sender=sender_named(app.config["PUSH_SENDER"]),
                created_since=utcnow() - timedelta(hours=hours),
            )
        finally:
            session.close()
        click.echo(f"pushed {count} notifications")

    @app.cli.command("purge-tombstones")
    def purge_tombstones_command() -> None:
        """Delete delta-sync tombstones past SYNC_TOMBSTONE_RETENTION_DAYS (run daily)."""
        session = get_db().session_factory()
        try:
            days = app.config["SYNC_TOMBSTONE_RETENTION_DAYS"]
            click.echo(f"purged {purge_tombstones(session, older_than_days=days)} tombstones")
        finally:
            session.close()

    @app.cli.command("write-openapi")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=OPENAPI_PATH)
    def write_openapi(output: Path) -> None:
        """Write the live OpenAPI document to mobile_contract/openapi.json."""
        output.write_text(render(live_document(app)), encoding="utf-8")
        click.echo(f"wrote {output}")

    @app.cli.command("check-contract")
    @click.option(
        "--release",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Compare with this document instead of the latest release.",
    )
    def check_contract(release: Path | None) -> None:
        """Fail when the live document breaks the latest released contract."""
        release = release or latest_release()
        if release is None:
            click.echo("no release yet: nothing to compare with")
            return
        breaks = find_breaking_changes(load(release), live_document(app))
        if breaks:
            for change in breaks:
                click.echo(f"BREAKING {change}", err=True)
            raise click.ClickException(
                f"{len(breaks)} breaking change(s) against release {release.stem}"
            )
        click.echo(f"compatible with release {release.stem}")

    @app.cli.command("release-contract")
    @click.argument("version")
    def release_contract(version: str) -> None:
        """Store the live document as release VERSION (e.g. 1.1.0) in mobile_contract/releases."""
        try:
            version_key(version)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        target = RELEASES_DIR / f"{version}.json"
        if target.exists():
            raise click.ClickException(f"release {version} exists already; releases never change")
        previous = latest_release()
        if previous is not None and version_key(version) <= version_key(previous.stem):
            raise click.ClickException(f"{version} is not newer than {previous.stem}")
        document = live_document(app)
        if previous is not None and version_key(version)[0] == version_key(previous.stem)[0]:
            breaks = find_breaking_changes(load(previous), document)
            if breaks:
                raise click.ClickException(
                    "a release with the same major version cannot break the previous one: "
                    + "; ".join(str(b) for b in breaks)
                )
        document.setdefault("info", {})["version"] = version
        RELEASES_DIR.mkdir(parents=True, exist_ok=True)
        target.write_text(render(document), encoding="utf-8")
        click.echo(f"released {target}")
