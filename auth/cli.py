"""`flask create-admin` (the first commissioner admin) and `flask dev-token` (development)."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app

from app.db import get_db
from app.domain_errors import DomainError
from auth.demo import DEMO_PASSWORD, MOBILE_APP_CLIENT_ID
from auth.oauth.dev_flow import DevFlowError, run_pkce_flow
from auth.oauth.service import active_client
from auth.onboarding.service import create_admin


def register_auth_cli(app: Flask) -> None:
    """Attach the account commands to the app's CLI."""

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", "display_name", prompt="Full name")
    @click.option("--commissioner", "commissioner_name", prompt="Commissioner (ICB or council)")
    @click.option("--kind", type=click.Choice(["icb", "council"]), default="icb")
    @click.option("--ods-code", default=None, help="The commissioner's ODS code.")
    @click.password_option(help="At least 10 characters (prompted, hidden, if not given).")
    def create_admin_command(
        email: str,
        display_name: str,
        commissioner_name: str,
        kind: str,
        ods_code: str | None,
        password: str,
    ) -> None:
        """Create a commissioner admin who can then invite everyone else."""
        session = get_db().session_factory()
        try:
            user = create_admin(
                session,
                email=email,
                display_name=display_name,
                password=password,
                commissioner_name=commissioner_name,
                commissioner_kind=kind,
                ods_code=ods_code,
            )
        except DomainError as error:
            raise click.ClickException(_explain(error)) from error
        finally:
            session.close()
        click.echo(f"admin {user.email} created ({user.id})")

    @app.cli.command("dev-token")
    @click.argument("email")
    @click.option("--password", default=DEMO_PASSWORD, show_default="the demo password")
    @click.option("--scope", default=None, help="Space-separated scopes (default: all the role's).")
    @click.option("--client-id", default=MOBILE_APP_CLIENT_ID, show_default=True)
    def dev_token_command(email: str, password: str, scope: str | None, client_id: str) -> None:
        """Sign in through the real PKCE flow and print the tokens (not in production)."""
        if current_app.config.get("ENV_NAME") == "production":
            raise click.ClickException("dev-token is for development only.")
        session = get_db().session_factory()
        try:
            client = active_client(session, client_id)
            redirect_uris = list(client.redirect_uris or []) if client is not None else []
        finally:
            session.close()  # no transaction stays open while the flow runs
        if not redirect_uris:
            raise click.ClickException(
                f"No usable OAuth client {client_id}: run `flask seed-demo`."
            )
        try:
            tokens = run_pkce_flow(
                current_app,
                client_id=client_id,
                redirect_uri=redirect_uris[0],
                email=email,
                password=password,
                scope=scope,
            )
        except DevFlowError as error:
            raise click.ClickException(str(error)) from error
        click.echo(json.dumps(tokens, indent=2))
        click.echo(
            f'\ncurl -H "Authorization: Bearer {tokens["access_token"]}" '
            "http://127.0.0.1:5000/v1/me",
            err=True,
        )


def _explain(error: DomainError) -> str:
    errors = error.extensions.get("errors")
    if errors:
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
    return str(error.detail or error.title)
