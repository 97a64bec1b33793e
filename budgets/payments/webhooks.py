"""Stripe webhooks: each verified event applied once, whatever order events arrive in.

Events are hints. For each one we re-fetch the object from Stripe (with no database
transaction open), then in one transaction store the event by its id and move our state
forward only; a duplicate id is acknowledged and ignored. Connect events carry the
connected account they belong to, and are routed to its provider organisation. A failed
re-fetch stores nothing and answers 503, so Stripe delivers the event again later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.notifications import notify
from budgets.payments.gateway import (
    ConnectedAccount,
    GatewayUnavailable,
    PaymentGateway,
    WebhookEvent,
)
from budgets.payments.models import (
    Payment,
    ProviderPayout,
    ProviderStripeAccount,
    StripeEvent,
)
from budgets.payments.onboarding import PaymentsUnavailable, staff_user_ids, sync_account
from budgets.payments.paying import lock_payment, mark_paid
from budgets.payments.refunds import apply_reversal

# How far along a payout is; a payout never moves back (Stripe may send `payout.failed`
# after `payout.paid`, when the bank returns the money, but never the other way round).
PAYOUT_PROGRESS = {"pending": 0, "in_transit": 1, "paid": 2, "failed": 3, "canceled": 3}


@dataclass(frozen=True)
class EventHandler:
    """Fetch fresh state from Stripe (network), then apply it (database); returns outcome."""

    fetch: Callable[[PaymentGateway, WebhookEvent], Any]
    apply: Callable[[Session, WebhookEvent, Any], str]


EVENT_HANDLERS: dict[str, EventHandler] = {}


def _connected_account_id(event: WebhookEvent) -> str:
    return event.account or str(event.object.get("id", ""))


def _fetch_account(gateway: PaymentGateway, event: WebhookEvent) -> Any:
    return gateway.retrieve_account(_connected_account_id(event))


def _apply_account(session: Session, event: WebhookEvent, remote: Any) -> str:
    account = session.scalar(
        select(ProviderStripeAccount).where(
            ProviderStripeAccount.stripe_account_id == _connected_account_id(event)
        )
    )
    if account is None:
        return "unknown-account"
    return "applied" if sync_account(session, account=account, remote=remote) else "unchanged"


def _fetch_payout(gateway: PaymentGateway, event: WebhookEvent) -> Any:
    if not event.account:
        return None  # a payout of the platform's own balance: not ours to track
    return gateway.retrieve_payout(payout_id=str(event.object["id"]), account_id=event.account)


def _apply_payout(session: Session, event: WebhookEvent, remote: Any) -> str:
    if remote is None:
        return "ignored"
    account = session.scalar(
        select(ProviderStripeAccount).where(
            ProviderStripeAccount.stripe_account_id == remote.account
        )
    )
    if account is None:
        return "unknown-account"
    payout = session.scalar(
        select(ProviderPayout).where(ProviderPayout.stripe_payout_id == remote.id)
    )
    previous: str | None = None
    if payout is None:
        payout = ProviderPayout(
            stripe_payout_id=remote.id,
            organisation_id=account.organisation_id,
            amount_pence=remote.amount,
            currency=remote.currency,
            status=remote.status,
        )
        session.add(payout)
    elif PAYOUT_PROGRESS.get(remote.status, 0) <= PAYOUT_PROGRESS.get(payout.status, 0):
        return "unchanged"
    else:
        previous = payout.status
    payout.status = remote.status
    payout.arrival_date = remote.arrival_date
    payout.failure_code = remote.failure_code
    payout.failure_message = remote.failure_message
    session.flush()
    record_audit(
        session,
        actor=None,
        action="provider_payout.updated",
        record_type="provider_payout",
        record_id=payout.id,
        details={"from": previous, "to": remote.status, "amount_pence": remote.amount},
    )
    if remote.status == "failed" and previous != "failed":
        notify(
            session,
            user_ids=staff_user_ids(session, account.organisation_id),
            kind="payments.payout_failed",
            title="A payout to your bank account failed",
            body="Check your bank details in Stripe; the money stays in your Stripe balance.",
            record_type="provider_payout",
            record_id=payout.id,
        )
    return "applied"


def _fetch_transfer(gateway: PaymentGateway, event: WebhookEvent) -> Any:
    return gateway.retrieve_transfer(str(event.object["id"]))


def _payment_for(session: Session, transfer: Any) -> Payment | None:
    """The payment a transfer pays (by its id, or the payment id we put in its metadata)."""
    payment_id = session.scalar(
        select(Payment.id).where(Payment.stripe_transfer_id == transfer.id)
    ) or transfer.metadata.get("payment_id")
    if not payment_id or session.get(Payment, payment_id) is None:
        return None
    return lock_payment(session, payment_id)


def _apply_transfer_created(session: Session, event: WebhookEvent, transfer: Any) -> str:
    payment = _payment_for(session, transfer)
    if payment is None:
        return "unknown-transfer"  # reconciliation reports it
    return "applied" if mark_paid(session, payment, transfer) else "unchanged"


def _apply_transfer_reversed(session: Session, event: WebhookEvent, transfer: Any) -> str:
    payment = _payment_for(session, transfer)
    if payment is None:
        return "unknown-transfer"
    changed = mark_paid(session, payment, transfer) if payment.status == "pending" else False
    for reversal in transfer.reversals:
        changed = apply_reversal(session, payment, reversal) or changed
    return "applied" if changed else "unchanged"


def _revoked(gateway: PaymentGateway, event: WebhookEvent) -> Any:
    """The provider disconnected us: Stripe no longer lets us read the account, and never
    will again, so the event itself is the truth."""
    return ConnectedAccount(
        id=_connected_account_id(event),
        details_submitted=True,
        charges_enabled=False,
        payouts_enabled=False,
        transfers_capability="inactive",
        requirements_due=(),
        disabled_reason="platform_access_revoked",
    )


EVENT_HANDLERS["account.updated"] = EventHandler(_fetch_account, _apply_account)
EVENT_HANDLERS["account.application.deauthorized"] = EventHandler(_revoked, _apply_account)
EVENT_HANDLERS["transfer.created"] = EventHandler(_fetch_transfer, _apply_transfer_created)
EVENT_HANDLERS["transfer.reversed"] = EventHandler(_fetch_transfer, _apply_transfer_reversed)
EVENT_HANDLERS["payout.paid"] = EventHandler(_fetch_payout, _apply_payout)
EVENT_HANDLERS["payout.failed"] = EventHandler(_fetch_payout, _apply_payout)


def receive_event(session: Session, *, event: WebhookEvent, gateway: PaymentGateway) -> str:
    """Apply one verified Stripe event exactly once; returns what became of it."""
    if session.get(StripeEvent, event.id) is not None:
        session.rollback()
        return "duplicate"
    session.rollback()  # nothing stays open while Stripe is asked for the fresh object
    handler = EVENT_HANDLERS.get(event.type)
    fresh: Any = None
    if handler is not None:
        try:
            fresh = handler.fetch(gateway, event)
        except GatewayUnavailable as exc:
            raise PaymentsUnavailable(
                "Stripe could not be reached to confirm the event; it will be redelivered."
            ) from exc
    stored = StripeEvent(
        id=event.id,
        type=event.type,
        account=event.account,
        object_id=str(event.object.get("id") or "") or None,
        stripe_created=event.created,
        outcome="received",
    )
    session.add(stored)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return "duplicate"
    stored.outcome = handler.apply(session, event, fresh) if handler is not None else "ignored"
    session.commit()
    return stored.outcome
