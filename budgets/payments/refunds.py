"""Refunds and clawbacks: reversing (part of) a payment's transfer puts money back in the budget.

Like paying, in two steps around the Stripe call: a `pending` PaymentRefund is committed
with its own idempotency key, then the reversal is requested; only a reversal Stripe
confirms returns money to the budget (`refund_spend`). Reversals made in Stripe directly
arrive as `transfer.reversed` webhooks and are recorded the same way, once.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import new_id, utcnow
from app.domain_errors import InvalidState, NotFound, RuleViolation, ValidationFailed
from app.notifications import notify
from auth.access import can_see_person
from auth.actor import Actor
from budgets.ledger import service as ledger
from budgets.payments.gateway import (
    GatewayUnavailable,
    PaymentGateway,
    PaymentRefused,
    TransferReversal,
)
from budgets.payments.models import Payment, PaymentRefund
from budgets.payments.onboarding import staff_user_ids
from budgets.payments.paying import RetryPolicy, lock_payment, take_lease
from budgets.payments.transactions import end_transaction_keeping

RECORD_TYPE = "payment_refund"


def _refundable(session: Session, payment: Payment) -> int:
    pending = session.scalar(
        select(func.coalesce(func.sum(PaymentRefund.amount_pence), 0)).where(
            PaymentRefund.payment_id == payment.id, PaymentRefund.status == "pending"
        )
    )
    return payment.amount_pence - payment.refunded_pence - int(pending or 0)


def request_refund(
    session: Session,
    *,
    payment_id: str,
    amount_pence: int,
    currency: str,
    reason: str,
    actor: Actor,
    gateway: PaymentGateway,
    retry: RetryPolicy | None = None,
) -> PaymentRefund:
    """Take money back from the provider (all or part of a payment) into the budget."""
    payment = session.get(Payment, payment_id)
    if payment is None or not can_see_person(session, actor, payment.person_id):
        raise NotFound("No such payment.")
    payment = session.scalars(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if payment.status != "paid":
        raise InvalidState("Only a payment that was made can be refunded.")
    if currency != payment.currency:
        raise ValidationFailed({"amount": {"currency": [f"The payment is in {payment.currency}."]}})
    refundable = _refundable(session, payment)
    if amount_pence > refundable:
        raise RuleViolation(
            "refund-exceeds-payment",
            "That is more than is left of this payment to take back.",
            refundable_pence=refundable,
        )
    refund_id = new_id()
    session.add(
        PaymentRefund(
            id=refund_id,
            payment_id=payment.id,
            amount_pence=amount_pence,
            currency=payment.currency,
            reason=reason,
            status="pending",
            idempotency_key=f"refund-{refund_id}",
            requested_by_user_id=actor.user_id,
        )
    )
    record_audit(
        session,
        actor=actor,
        action="payment_refund.requested",
        record_type=RECORD_TYPE,
        record_id=refund_id,
        subject_person_id=payment.person_id,
        details={"payment_id": payment.id, "amount_pence": amount_pence},
    )
    session.commit()
    return attempt_refund(session, refund_id=refund_id, gateway=gateway, retry=retry)


def attempt_refund(
    session: Session,
    *,
    refund_id: str,
    gateway: PaymentGateway,
    retry: RetryPolicy | None = None,
) -> PaymentRefund:
    """Ask Stripe for the reversal of a pending refund and record the outcome."""
    retry = retry or RetryPolicy()
    taken = take_lease(session, PaymentRefund, refund_id, retry, utcnow())
    refund = session.get(PaymentRefund, refund_id, populate_existing=True)
    if refund is None:
        raise NotFound("No such refund.")
    if not taken:
        return refund
    payment = session.get(Payment, refund.payment_id)
    assert payment is not None and payment.stripe_transfer_id
    transfer_id = payment.stripe_transfer_id
    end_transaction_keeping(session, refund)
    try:
        reversal = gateway.create_reversal(
            transfer_id=transfer_id,
            amount=refund.amount_pence,
            metadata={"refund_id": refund.id, "payment_id": refund.payment_id},
            idempotency_key=refund.idempotency_key,
        )
    except PaymentRefused as refused:
        return _record_refund_failure(session, refund_id=refund_id, reason=str(refused))
    except GatewayUnavailable as unknown:
        refund = _locked_refund(session, refund_id)
        if refund.status == "pending":
            refund.last_error = str(unknown)[:500]
            refund.next_attempt_at = utcnow() + retry.delay(refund.attempts)
        session.commit()
        return refund
    return record_reversal(session, refund_id=refund_id, reversal=reversal)


def _locked_refund(session: Session, refund_id: str) -> PaymentRefund:
    return session.scalars(
        select(PaymentRefund)
        .where(PaymentRefund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _record_refund_failure(session: Session, *, refund_id: str, reason: str) -> PaymentRefund:
    refund = _locked_refund(session, refund_id)
    if refund.status == "pending":
        refund.status = "failed"
        refund.failure_reason = reason[:500]
        refund.next_attempt_at = None
        record_audit(
            session,
            actor=None,
            action="payment_refund.failed",
            record_type=RECORD_TYPE,
            record_id=refund.id,
            details={"payment_id": refund.payment_id},
        )
        if refund.requested_by_user_id:
            notify(
                session,
                user_ids=[refund.requested_by_user_id],
                kind="payments.refund_failed",
                title="Stripe refused to take the money back",
                body=reason[:300],
                record_type=RECORD_TYPE,
                record_id=refund.id,
            )
    session.commit()
    return refund


def apply_reversal(session: Session, payment: Payment, reversal: TransferReversal) -> bool:
    """Return a reversal's money to the budget, once per reversal (flush only).

    `payment` is locked by the caller. Matches our pending refund by the reversal's
    metadata; a reversal we did not ask for (a clawback made in Stripe) becomes a refund of
    its own. Returns False when the reversal was already recorded.
    """
    known = session.scalar(
        select(PaymentRefund.id).where(PaymentRefund.stripe_reversal_id == reversal.id)
    )
    if known is not None:
        return False
    refund = None
    refund_id = reversal.metadata.get("refund_id")
    if refund_id:
        refund = session.get(PaymentRefund, refund_id, populate_existing=True)
    if refund is None or refund.payment_id != payment.id or refund.status != "pending":
        refund = PaymentRefund(
            id=new_id(),
            payment_id=payment.id,
            amount_pence=reversal.amount,
            currency=payment.currency,
            reason="Reversed in Stripe",
            status="pending",
            idempotency_key=f"stripe-{reversal.id}",
        )
        session.add(refund)
    refund.status = "reversed"
    refund.stripe_reversal_id = reversal.id
    refund.reversed_at = utcnow()
    refund.next_attempt_at = None
    payment.refunded_pence += reversal.amount
    session.flush()
    ledger.refund_spend(
        session,
        plan_line_id=payment.plan_line_id,
        amount_pence=reversal.amount,
        cause_type="payment_refund",
        cause_id=refund.id,
        actor=None,
        note="Transfer reversed; the money is back in the budget.",
    )
    notify(
        session,
        user_ids=staff_user_ids(session, payment.organisation_id),
        kind="payments.reversed",
        title="Money was taken back from a payment",
        body=f"£{reversal.amount / 100:.2f} of a payment was reversed: {refund.reason[:200]}",
        record_type=RECORD_TYPE,
        record_id=refund.id,
    )
    record_audit(
        session,
        actor=None,
        action="payment_refund.reversed",
        record_type=RECORD_TYPE,
        record_id=refund.id,
        subject_person_id=payment.person_id,
        details={"payment_id": payment.id, "stripe_reversal_id": reversal.id},
    )
    return True


def record_reversal(
    session: Session, *, refund_id: str, reversal: TransferReversal
) -> PaymentRefund:
    """Stripe reversed the transfer for our refund: the money is back in the budget."""
    refund = session.get(PaymentRefund, refund_id)
    assert refund is not None
    apply_reversal(session, lock_payment(session, refund.payment_id), reversal)
    session.commit()
    refund = session.get(PaymentRefund, refund_id, populate_existing=True)
    assert refund is not None
    return refund


def due_refund_ids(session: Session, *, limit: int) -> list[str]:
    """Pending refunds whose next try is due."""
    now = utcnow()
    ids = list(
        session.scalars(
            select(PaymentRefund.id)
            .where(
                PaymentRefund.status == "pending",
                or_(PaymentRefund.next_attempt_at.is_(None), PaymentRefund.next_attempt_at <= now),
            )
            .order_by(PaymentRefund.created_at)
            .limit(limit)
        )
    )
    session.rollback()
    return ids
