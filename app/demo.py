"""The demo dataset `make run` loads: every domain adds its part, idempotently."""

from __future__ import annotations

from sqlalchemy.orm import Session

from auth.demo import (
    BACK_OFFICE_CLIENT_ID,
    BACK_OFFICE_SECRET,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    seed_accounts,
)
from budgets.bookings.demo import seed_bookings
from budgets.demo import seed_budgets
from budgets.payments.demo import seed_payments
from budgets.providers.demo import seed_providers
from employment.demo import seed_employment
from mobile_contract.notifications.demo import seed_notifications


def seed_demo(session: Session, *, base_url: str) -> None:
    """Load (or top up) the demo dataset; running it twice changes nothing."""
    seed_accounts(session, docs_redirect_uri=f"{base_url}/docs/assets/oauth2-redirect.html")
    seed_budgets(session)
    seed_providers(session)
    # After the budgets demo: bookings need the demo people's approved plans.
    seed_bookings(session)
    seed_employment(session)
    seed_payments(session)
    seed_notifications(session)
    session.commit()


def demo_summary(base_url: str) -> str:
    """What to print for a newcomer: where the docs are and who to sign in as."""
    lines = [
        "",
        f"  API docs:      {base_url}/docs",
        f"  OpenAPI:       {base_url}/openapi.json",
        f"  Health:        {base_url}/healthz",
        "",
        f"  Demo logins (password for all: {DEMO_PASSWORD}):",
    ]
    lines += [f"    {email:<24} {role:<15} {what}" for email, _, role, what in DEMO_LOGINS]
    lines += [
        "",
        "  Get a token from the command line:",
        "    .venv/bin/flask --app app dev-token person@demo.example",
        "  In the docs: Authorize -> client_id api-docs, no secret, then sign in as above.",
        f"  Back-office client (client credentials): {BACK_OFFICE_CLIENT_ID}",
        f"    secret {BACK_OFFICE_SECRET}",
        "",
    ]
    return "\n".join(lines)
