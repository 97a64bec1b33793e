"""Reconciliation: our payments against Stripe's transfers, in both directions.

Reports, never repairs: each mismatch names the payment and/or transfer and what differs,
for a person to look at. Kinds:
- `missing-in-stripe`: a payment we recorded as paid whose transfer Stripe does not have;
- `amount-mismatch` / `destination-mismatch` / `reversal-mismatch`: the two disagree;
- `transferred-but-not-paid`: Stripe has a transfer for a payment we hold as pending or
  failed (the worker settles pending ones; a failed one needs a person);
- `unrecorded-transfer`: a transfer Stripe made that no payment of ours accounts for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from budgets.payments.gateway import PaymentGateway, PaymentRefused, Transfer
from budgets.payments.models import Payment, ProviderStripeAccount

# Transfers are listed from a little before the first payment looked at, so a transfer
# created just before its payment row's timestamp is still seen.
_LISTING_MARGIN_SECONDS = 86400


@dataclass(frozen=True)
class Mismatch:
    kind: str
    payment_id: str | None
    transfer_id: str | None
    detail: str


def _transfer_of(
    gateway: PaymentGateway, payment: Payment, listed: dict[str, Transfer]
) -> Transfer | None:
    assert payment.stripe_transfer_id
    if payment.stripe_transfer_id in listed:
        return listed[payment.stripe_transfer_id]
    try:
        return gateway.retrieve_transfer(payment.stripe_transfer_id)
    except PaymentRefused:
        return None


def _compare_paid(
    payment: Payment, transfer: Transfer | None, destination: str | None
) -> list[Mismatch]:
    if transfer is None:
        return [
            Mismatch(
                "missing-in-stripe",
                payment.id,
                payment.stripe_transfer_id,
                "We recorded this payment as paid, but Stripe has no such transfer.",
            )
        ]
    found: list[Mismatch] = []
    if transfer.amount != payment.amount_pence or transfer.currency != payment.currency:
        found.append(
            Mismatch(
                "amount-mismatch",
                payment.id,
                transfer.id,
                f"We paid {payment.amount_pence} {payment.currency}; Stripe transferred "
                f"{transfer.amount} {transfer.currency}.",
            )
        )
    if destination is not None and transfer.destination != destination:
        found.append(
            Mismatch(
                "destination-mismatch",
                payment.id,
                transfer.id,
                f"The transfer went to {transfer.destination}, not the provider's {destination}.",
            )
        )
    if transfer.amount_reversed != payment.refunded_pence:
        found.append(
            Mismatch(
                "reversal-mismatch",
                payment.id,
                transfer.id,
                f"We recorded {payment.refunded_pence} refunded; Stripe reversed "
                f"{transfer.amount_reversed}.",
            )
        )
    return found


def reconcile(session: Session, *, gateway: PaymentGateway, since: datetime) -> list[Mismatch]:
    """Every disagreement between our payments since `since` and Stripe's transfers."""
    payments = list(session.scalars(select(Payment).where(Payment.created_at >= since)))
    destinations = {
        organisation_id: account_id
        for organisation_id, account_id in session.execute(
            select(ProviderStripeAccount.organisation_id, ProviderStripeAccount.stripe_account_id)
        )
    }
    session.expunge_all()  # read below while Stripe is listed, with no transaction open
    session.rollback()
    listed = {
        t.id: t
        for t in gateway.list_transfers(
            created_since=int(since.timestamp()) - _LISTING_MARGIN_SECONDS
        )
    }
    by_payment_id = {
        t.metadata["payment_id"]: t for t in listed.values() if "payment_id" in t.metadata
    }
    mismatches: list[Mismatch] = []
    accounted: set[str] = set()
    for payment in payments:
        if payment.status == "paid":
            transfer = _transfer_of(gateway, payment, listed)
            mismatches += _compare_paid(
                payment, transfer, destinations.get(payment.organisation_id)
            )
            if transfer is not None:
                accounted.add(transfer.id)
        elif payment.id in by_payment_id:
            transfer = by_payment_id[payment.id]
            accounted.add(transfer.id)
            mismatches.append(
                Mismatch(
                    "transferred-but-not-paid",
                    payment.id,
                    transfer.id,
                    f"Stripe made the transfer but we hold the payment as {payment.status}.",
                )
            )
    unaccounted = [t for t in listed.values() if t.id not in accounted]
    # Older payments (before `since`) may account for transfers in the listing's margin.
    older = session.execute(
        select(Payment.id, Payment.stripe_transfer_id).where(
            Payment.id.in_([t.metadata.get("payment_id", "") for t in unaccounted])
            | Payment.stripe_transfer_id.in_([t.id for t in unaccounted])
        )
    ).all()
    session.rollback()
    known = {value for row in older for value in row if value}
    for transfer in unaccounted:
        if transfer.id in known or transfer.metadata.get("payment_id") in known:
            continue
        mismatches.append(
            Mismatch(
                "unrecorded-transfer",
                None,
                transfer.id,
                f"Stripe transferred {transfer.amount} {transfer.currency} to "
                f"{transfer.destination}, and no payment of ours accounts for it.",
            )
        )
    return mismatches
