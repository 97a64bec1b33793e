"""`flask` commands that write the contract, check it for breaking changes, and release it."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

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


def register_contract_cli(app: Flask) -> None:
    """Attach the contract commands to the app's CLI."""

    @app.cli.command("write-openapi")
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=OPENAPI_PATH)
    def write_openapi(output: Path) -> None:
        """Write the live OpenAPI document to mobile_contract/openapi.json."""
        output.write_text(render(live_document(app)), encoding="utf-8")
        click.echo(f"wrote {output}")

    @app.cli.command("check-contract")
    def check_contract() -> None:
        """Fail when the live document breaks the latest released contract."""
        release = latest_release()
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
