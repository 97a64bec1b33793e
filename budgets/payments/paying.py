"""Paying confirmed claims exactly once.

1. `start_payment` (one transaction): under the budget lock, the claim's commitment
   becomes spend in the ledger and a `pending` Payment is recorded, with an idempotency
   key derived from its id. Committed before Stripe is called.
2. `attempt_payment`: takes a short lease on the payment (a committed attempt counter),
   then, with no transaction open, asks Stripe for the transfer with that key. A retry
   after an earlier attempt first looks for a transfer already made for this payment, so
   even a retry after Stripe forgot the key (24 h) cannot pay twice.
3. The outcome is recorded in a second transaction: `paid` (transfer id kept), `failed`
   when Stripe refused (the spend goes back to commitment, the claim is marked and people
   are told why), or still `pending` when the outcome is unknown (retried with backoff by
   `flask pay-pending`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import new_id, utcnow
from app.domain_errors import Conflict, InvalidState, NotFound, RuleViolation
from app.notifications import notify
from auth.access import can_see_person
from auth.actor import Actor
from auth.models import User
from budgets.ledger import service as ledger
from budgets.payments.claims import claim_book
from budgets.payments.gateway import (
    GatewayUnavailable,
    PaymentGateway,
    PaymentRefused,
    Transfer,
)
from budgets.payments.models import Payment, PaymentRefund
from budgets.payments.onboarding import (
    PaymentsUnavailable,
    account_for_organisation,
    readiness_of,
    staff_user_ids,
)
from budgets.payments.transactions import end_transaction_keeping
from budgets.plans.models import PlanLine

log = logging.getLogger(__name__)
RECORD_TYPE = "payment"


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before retrying an unknown outcome, and how long a try may run."""

    base_seconds: int = 30
    max_seconds: int = 3600
    lease_seconds: int = 120

    def delay(self, attempts: int) -> timedelta:
        return timedelta(
            seconds=min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds)
        )


def _visible_payment(session: Session, actor: Actor, payment_id: str) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or not (
        can_see_person(session, actor, payment.person_id)
        or payment.organisation_id in actor.organisation_ids
    ):
        raise NotFound("No such payment.")
    return payment


def get_payment(session: Session, *, payment_id: str, actor: Actor) -> Payment:
    """A payment, for the commissioner's staff, the person, or the provider paid."""
    payment = _visible_payment(session, actor, payment_id)
    record_audit(
        session,
        actor=actor,
        action="payment.read",
        record_type=RECORD_TYPE,
        record_id=payment.id,
        subject_person_id=payment.person_id,
    )
    session.commit()
    return payment


def start_payment(
    session: Session, *, claim_id: str, actor: Actor | None, payments_enabled: bool = True
) -> str:
    """Record the spend and a pending payment for a confirmed claim; returns the payment id.

    `actor` None is the payments worker paying confirmed claims by itself.
    """
    claim = claim_book().payable_claim(session, claim_id=claim_id)
    line = session.get(PlanLine, claim.plan_line_id)
    if line is None or (
        actor is not None and not can_see_person(session, actor, line.plan.person_id)
    ):
        raise NotFound("No such claim.")
    if not payments_enabled:
        raise PaymentsUnavailable("Payments are not configured on this server.")
    budget_id, person_id = line.plan.budget_id, line.plan.person_id
    ledger.lock_budget(session, budget_id)  # payments of one budget are decided one at a time
    existing = session.scalar(
        select(Payment.id).where(Payment.claim_id == claim_id, Payment.status != "failed")
    )
    if existing is not None:
        raise Conflict("This claim is already paid or being paid.", payment_id=existing)
    if not claim.is_payable:
        raise InvalidState("Only a claim the person confirmed can be paid.")
    readiness = readiness_of(
        claim.organisation_id, account_for_organisation(session, claim.organisation_id)
    )
    if not readiness.ready:
        raise RuleViolation(
            "provider-not-ready",
            "The provider cannot be paid yet: " + " ".join(readiness.reasons),
            reasons=readiness.reasons,
        )
    payment_id = new_id()
    ledger.record_spend(
        session,
        plan_line_id=claim.plan_line_id,
        amount_pence=claim.amount_pence,
        cause_type="payment",
        cause_id=payment_id,
        actor=actor,
    )
    payment = Payment(
        id=payment_id,
        claim_id=claim.claim_id,
        booking_id=claim.booking_id,
        organisation_id=claim.organisation_id,
        plan_line_id=claim.plan_line_id,
        budget_id=budget_id,
        person_id=person_id,
        amount_pence=claim.amount_pence,
        currency=claim.currency,
        status="pending",
        idempotency_key=f"payment-{payment_id}",
        requested_by_user_id=actor.user_id if actor else None,
    )
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("This claim is already paid or being paid.") from None
    record_audit(
        session,
        actor=actor,
        action="payment.started",
        record_type=RECORD_TYPE,
        record_id=payment_id,
        subject_person_id=person_id,
        details={"claim_id": claim_id, "amount_pence": claim.amount_pence},
    )
    session.commit()
    return payment_id


def pay_claim(
    session: Session,
    *,
    claim_id: str,
    actor: Actor | None,
    gateway: PaymentGateway,
    retry: RetryPolicy | None = None,
) -> Payment:
    """Pay the provider for a confirmed claim: spend recorded now, one transfer made."""
    payment_id = start_payment(
        session, claim_id=claim_id, actor=actor, payments_enabled=gateway.configured
    )
    return attempt_payment(session, payment_id=payment_id, gateway=gateway, retry=retry)


def take_lease(
    session: Session,
    model: type[Payment] | type[PaymentRefund],
    record_id: str,
    retry: RetryPolicy,
    now: datetime,
) -> bool:
    """Count an attempt and hold the record while it runs; False if not due or taken.

    The lease only stops two workers calling Stripe at once; the idempotency key is what
    makes a double call harmless.
    """
    result = session.execute(
        update(model)
        .where(
            model.id == record_id,
            model.status == "pending",
            or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
        )
        .values(
            attempts=model.attempts + 1,
            next_attempt_at=now + timedelta(seconds=retry.lease_seconds),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _earlier_transfer(gateway: PaymentGateway, payment: Payment) -> Transfer | None:
    """A transfer an earlier attempt made for this payment, if Stripe has one."""
    for transfer in gateway.list_transfers(transfer_group=payment.transfer_group):
        if transfer.metadata.get("payment_id") == payment.id:
            return transfer
    return None


def attempt_payment(
    session: Session,
    *,
    payment_id: str,
    gateway: PaymentGateway,
    retry: RetryPolicy | None = None,
) -> Payment:
    """Make (or find) the Stripe transfer for a pending payment and record the outcome."""
    retry = retry or RetryPolicy()
    if not take_lease(session, Payment, payment_id, retry, utcnow()):
        payment = session.get(Payment, payment_id)
        if payment is None:
            raise NotFound("No such payment.")
        return payment
    payment = session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None
    account = account_for_organisation(session, payment.organisation_id)
    end_transaction_keeping(session, payment, account)
    if account is None:
        return record_failure(
            session,
            payment_id=payment_id,
            code="no-stripe-account",
            reason="The provider has no Stripe account.",
        )
    try:
        transfer = _earlier_transfer(gateway, payment) if payment.attempts > 1 else None
        if transfer is None:
            transfer = gateway.create_transfer(
                amount=payment.amount_pence,
                currency=payment.currency,
                destination=account.stripe_account_id,
                transfer_group=payment.transfer_group,
                metadata={
                    "payment_id": payment.id,
                    "claim_id": payment.claim_id,
                    "booking_id": payment.booking_id,
                    "budget_id": payment.budget_id,
                },
                idempotency_key=payment.idempotency_key,
            )
    except PaymentRefused as refused:
        return record_failure(
            session, payment_id=payment_id, code=refused.code, reason=str(refused)
        )
    except GatewayUnavailable as unknown:
        return record_unknown(session, payment_id=payment_id, error=str(unknown), retry=retry)
    return record_paid(session, payment_id=payment_id, transfer=transfer)


def lock_payment(session: Session, payment_id: str) -> Payment:
    """The payment, re-read under a row lock until the transaction ends."""
    payment = session.scalars(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def mark_paid(session: Session, payment: Payment, transfer: Transfer) -> bool:
    """Record the transfer on a locked pending payment (flush only); False if not pending."""
    if payment.status != "pending":
        if payment.stripe_transfer_id != transfer.id:
            log.error(
                "transfer %s made for payment %s which is %s",
                transfer.id,
                payment.id,
                payment.status,
            )
        return False
    payment.status = "paid"
    payment.stripe_transfer_id = transfer.id
    payment.paid_at = utcnow()
    payment.next_attempt_at = None
    payment.last_error = None
    claim_book().mark_paid(session, claim_id=payment.claim_id, payment_id=payment.id)
    notify(
        session,
        user_ids=staff_user_ids(session, payment.organisation_id),
        kind="payments.paid",
        title="You have been paid for a claim",
        body=f"£{payment.amount_pence / 100:.2f} is on its way to your Stripe account.",
        record_type=RECORD_TYPE,
        record_id=payment.id,
    )
    record_audit(
        session,
        actor=None,
        action="payment.paid",
        record_type=RECORD_TYPE,
        record_id=payment.id,
        subject_person_id=payment.person_id,
        details={"stripe_transfer_id": transfer.id, "amount_pence": payment.amount_pence},
    )
    session.flush()
    return True


def record_paid(session: Session, *, payment_id: str, transfer: Transfer) -> Payment:
    """Stripe made the transfer: the payment is paid (once, whoever learns it first)."""
    payment = lock_payment(session, payment_id)
    mark_paid(session, payment, transfer)
    session.commit()
    return payment


def _people_to_tell(session: Session, payment: Payment) -> list[str]:
    users = staff_user_ids(session, payment.organisation_id)
    users += list(session.scalars(select(User.id).where(User.person_id == payment.person_id)))
    if payment.requested_by_user_id:
        users.append(payment.requested_by_user_id)
    return users


def record_failure(session: Session, *, payment_id: str, code: str, reason: str) -> Payment:
    """Stripe refused: the money goes back to the claim's commitment and people are told."""
    payment = lock_payment(session, payment_id)
    if payment.status != "pending":
        session.commit()
        return payment
    payment.status = "failed"
    payment.failure_code = code[:64]
    payment.failure_reason = reason[:500]
    payment.failed_at = utcnow()
    payment.next_attempt_at = None
    ledger.reverse_spend(
        session,
        plan_line_id=payment.plan_line_id,
        amount_pence=payment.amount_pence,
        cause_type="payment",
        cause_id=payment.id,
        actor=None,
        note="Payment failed; the money is held for the claim again.",
    )
    claim_book().mark_payment_failed(
        session, claim_id=payment.claim_id, payment_id=payment.id, reason=reason
    )
    notify(
        session,
        user_ids=_people_to_tell(session, payment),
        kind="payments.failed",
        title="A payment to a provider failed",
        body=f"Stripe refused the payment: {reason[:300]} The money is still set aside.",
        record_type=RECORD_TYPE,
        record_id=payment.id,
    )
    record_audit(
        session,
        actor=None,
        action="payment.failed",
        record_type=RECORD_TYPE,
        record_id=payment.id,
        subject_person_id=payment.person_id,
        details={"code": code, "amount_pence": payment.amount_pence},
    )
    session.commit()
    return payment


def record_unknown(session: Session, *, payment_id: str, error: str, retry: RetryPolicy) -> Payment:
    """The outcome is unknown: keep it pending and try again later with the same key."""
    payment = lock_payment(session, payment_id)
    if payment.status == "pending":
        payment.last_error = error[:500]
        payment.next_attempt_at = utcnow() + retry.delay(payment.attempts)
        log.warning(
            "payment %s outcome unknown (attempt %s): %s", payment.id, payment.attempts, error
        )
    session.commit()
    return payment


def due_payment_ids(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Pending payments whose next try is due, oldest first."""
    ids = list(
        session.scalars(
            select(Payment.id)
            .where(
                Payment.status == "pending",
                or_(Payment.next_attempt_at.is_(None), Payment.next_attempt_at <= now),
            )
            .order_by(Payment.created_at)
            .limit(limit)
        )
    )
    session.rollback()
    return ids
