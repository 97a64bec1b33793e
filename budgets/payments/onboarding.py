"""Connect onboarding: a provider organisation becomes a Stripe connected account.

The API creates the account (a deterministic idempotency key per organisation, so a
retry after a crash finds the same Stripe account), hands out Account Links for the
provider to complete on Stripe, and shows staff how ready they are to be paid. Readiness
is only ever copied from Stripe (see `sync_account`); webhooks trigger the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Conflict, DomainError, Forbidden, NotFound
from app.notifications import notify
from auth.access import require_organisation_access
from auth.actor import Actor
from auth.models import ProviderMembership, User
from budgets.payments.gateway import (
    ConnectedAccount,
    GatewayUnavailable,
    PaymentGateway,
    PaymentRefused,
)
from budgets.payments.models import ProviderStripeAccount
from budgets.providers.models import ProviderOrganisation

RECORD_TYPE = "provider_stripe_account"


class PaymentsUnavailable(DomainError):
    """Stripe could not be reached or is not configured; nothing was changed."""

    slug = "service-unavailable"


@dataclass(frozen=True)
class Readiness:
    """Whether a provider can be paid and, if not, why, in words staff understand."""

    organisation_id: str
    status: str  # not_started | onboarding | restricted | ready
    ready: bool
    reasons: list[str]
    account: ProviderStripeAccount | None

    @property
    def stripe_account_id(self) -> str | None:
        return self.account.stripe_account_id if self.account else None

    @property
    def payouts_enabled(self) -> bool:
        return bool(self.account and self.account.payouts_enabled)

    @property
    def transfers_enabled(self) -> bool:
        return bool(self.account and self.account.transfers_capability == "active")

    @property
    def requirements_due(self) -> list[str]:
        return list(self.account.requirements_due or []) if self.account else []

    @property
    def synced_at(self) -> datetime | None:
        return self.account.synced_at if self.account else None


def _organisation(session: Session, actor: Actor, organisation_id: str) -> ProviderOrganisation:
    require_organisation_access(actor, organisation_id)
    organisation = session.get(ProviderOrganisation, organisation_id)
    if organisation is None:
        raise NotFound("No such record.")
    return organisation


def _require_owner(session: Session, actor: Actor, organisation_id: str) -> None:
    if actor.is_back_office_client:
        raise Forbidden("Only an owner of the organisation can set up how it is paid.")
    role = session.scalar(
        select(ProviderMembership.membership_role).where(
            ProviderMembership.user_id == actor.user_id,
            ProviderMembership.organisation_id == organisation_id,
        )
    )
    if role != "owner":
        raise Forbidden("Only an owner of the organisation can set up how it is paid.")


def account_for_organisation(
    session: Session, organisation_id: str
) -> ProviderStripeAccount | None:
    return session.scalar(
        select(ProviderStripeAccount).where(
            ProviderStripeAccount.organisation_id == organisation_id
        )
    )


def readiness_of(organisation_id: str, account: ProviderStripeAccount | None) -> Readiness:
    """The provider's readiness to be paid, with reasons when it is not."""
    if account is None:
        return Readiness(
            organisation_id,
            "not_started",
            False,
            ["Set up payments with Stripe before you can be paid."],
            None,
        )
    if account.is_ready:
        return Readiness(organisation_id, "ready", True, [], account)
    reasons: list[str] = []
    if not account.details_submitted:
        reasons.append("Finish the Stripe onboarding form.")
    if account.requirements_due:
        reasons.append("Stripe needs: " + ", ".join(account.requirements_due) + ".")
    if not account.payouts_enabled:
        reasons.append("Stripe has not enabled payouts to your bank yet.")
    if account.transfers_capability != "active":
        reasons.append("Stripe has not enabled transfers to your account yet.")
    status = "onboarding" if not account.details_submitted else "restricted"
    return Readiness(organisation_id, status, False, reasons, account)


def get_readiness(session: Session, *, organisation_id: str, actor: Actor) -> Readiness:
    """Show provider staff whether their organisation can be paid, and why not."""
    _organisation(session, actor, organisation_id)
    account = account_for_organisation(session, organisation_id)
    record_audit(
        session,
        actor=actor,
        action="stripe_account.read",
        record_type=RECORD_TYPE,
        record_id=account.id if account else None,
        details={"organisation_id": organisation_id},
    )
    session.commit()
    return readiness_of(organisation_id, account)


def start_onboarding(
    session: Session, *, organisation_id: str, actor: Actor, gateway: PaymentGateway
) -> Readiness:
    """Create the organisation's Stripe connected account (once)."""
    _organisation(session, actor, organisation_id)
    _require_owner(session, actor, organisation_id)
    if account_for_organisation(session, organisation_id) is not None:
        raise Conflict("This organisation already has a Stripe account.")
    email = session.scalar(select(User.email).where(User.id == actor.user_id))
    session.rollback()  # no transaction stays open while Stripe is called
    try:
        remote = gateway.create_account(
            organisation_id=organisation_id,
            email=email,
            idempotency_key=f"connect-account-{organisation_id}",
        )
    except GatewayUnavailable as exc:
        raise PaymentsUnavailable("Stripe could not be reached; try again shortly.") from exc
    except PaymentRefused as exc:
        raise Conflict(f"Stripe refused to create the account: {exc}") from exc
    account = ProviderStripeAccount(organisation_id=organisation_id, stripe_account_id=remote.id)
    _copy_remote(account, remote)
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("This organisation already has a Stripe account.") from None
    record_audit(
        session,
        actor=actor,
        action="stripe_account.created",
        record_type=RECORD_TYPE,
        record_id=account.id,
        details={"organisation_id": organisation_id, "stripe_account_id": remote.id},
    )
    session.commit()
    return readiness_of(organisation_id, account)


def create_onboarding_link(
    session: Session,
    *,
    organisation_id: str,
    actor: Actor,
    gateway: PaymentGateway,
    refresh_url: str,
    return_url: str,
) -> dict[str, Any]:
    """An Account Link where the provider completes (or updates) their details on Stripe."""
    _organisation(session, actor, organisation_id)
    _require_owner(session, actor, organisation_id)
    account = account_for_organisation(session, organisation_id)
    if account is None:
        raise Conflict("Set up the Stripe account first.")
    stripe_account_id = account.stripe_account_id
    record_audit(
        session,
        actor=actor,
        action="stripe_account.link_created",
        record_type=RECORD_TYPE,
        record_id=account.id,
        details={"organisation_id": organisation_id},
    )
    session.commit()
    try:
        link = gateway.create_account_link(
            account_id=stripe_account_id, refresh_url=refresh_url, return_url=return_url
        )
    except GatewayUnavailable as exc:
        raise PaymentsUnavailable("Stripe could not be reached; try again shortly.") from exc
    except PaymentRefused as exc:
        raise Conflict(f"Stripe refused the onboarding link: {exc}") from exc
    return {"url": link.url, "expires_at": link.expires_at}


def _copy_remote(account: ProviderStripeAccount, remote: ConnectedAccount) -> None:
    account.details_submitted = remote.details_submitted
    account.charges_enabled = remote.charges_enabled
    account.payouts_enabled = remote.payouts_enabled
    account.transfers_capability = remote.transfers_capability
    account.requirements_due = list(remote.requirements_due)
    account.disabled_reason = remote.disabled_reason
    account.synced_at = utcnow()


def staff_user_ids(session: Session, organisation_id: str) -> list[str]:
    """Everyone who works for the organisation (they hear about its payments)."""
    return list(
        session.scalars(
            select(ProviderMembership.user_id).where(
                ProviderMembership.organisation_id == organisation_id
            )
        )
    )


def sync_account(
    session: Session, *, account: ProviderStripeAccount, remote: ConnectedAccount
) -> bool:
    """Copy Stripe's current view of the account; tell staff if readiness changed.

    Returns whether anything changed. The caller fetched `remote` from Stripe just before,
    so however the webhooks that prompted it were ordered, the result is Stripe's latest.
    """
    before = (
        account.details_submitted,
        account.charges_enabled,
        account.payouts_enabled,
        account.transfers_capability,
        list(account.requirements_due or []),
        account.disabled_reason,
    )
    was_ready = account.is_ready
    after = (
        remote.details_submitted,
        remote.charges_enabled,
        remote.payouts_enabled,
        remote.transfers_capability,
        list(remote.requirements_due),
        remote.disabled_reason,
    )
    if before == after:
        return False
    _copy_remote(account, remote)
    record_audit(
        session,
        actor=None,
        action="stripe_account.synced",
        record_type=RECORD_TYPE,
        record_id=account.id,
        details={"ready": account.is_ready, "requirements_due": list(remote.requirements_due)},
    )
    if account.is_ready != was_ready:
        title = (
            "You can now be paid through Stripe"
            if account.is_ready
            else "Stripe needs more information before we can pay you"
        )
        notify(
            session,
            user_ids=staff_user_ids(session, account.organisation_id),
            kind="payments.account_ready" if account.is_ready else "payments.account_restricted",
            title=title,
            record_type=RECORD_TYPE,
            record_id=account.id,
        )
    return True
