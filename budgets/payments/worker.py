"""The payments worker: pays confirmed claims, and retries pending payments and refunds
until Stripe gives an answer.

`flask pay-pending` runs it once or continuously. Each try holds a short lease, so two
workers do not call Stripe for the same payment at once (and if they did, the idempotency
key would make the second call harmless).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import DomainError
from budgets.payments.claims import claim_book
from budgets.payments.gateway import PaymentGateway
from budgets.payments.paying import RetryPolicy, attempt_payment, due_payment_ids, pay_claim
from budgets.payments.refunds import attempt_refund, due_refund_ids

log = logging.getLogger(__name__)


@dataclass
class DrainReport:
    """What one pass did: how many payments and refunds ended in each state."""

    payments: dict[str, int] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=dict)

    @property
    def tried(self) -> int:
        return sum(self.payments.values()) + sum(self.refunds.values()) + sum(self.claims.values())


def drain_once(
    session: Session, *, gateway: PaymentGateway, retry: RetryPolicy, limit: int = 100
) -> DrainReport:
    """Pay newly confirmed claims, then try every pending payment and refund that is due."""
    report = DrainReport()
    for claim_id in claim_book().unpaid_confirmed_claim_ids(session, limit=limit):
        try:
            status = pay_claim(
                session, claim_id=claim_id, actor=None, gateway=gateway, retry=retry
            ).status
        except DomainError as refused:  # e.g. the provider is not ready yet: try next pass
            session.rollback()
            status = getattr(refused, "code", refused.slug)
        report.claims[status] = report.claims.get(status, 0) + 1
    for payment_id in due_payment_ids(session, now=utcnow(), limit=limit):
        try:
            status = attempt_payment(
                session, payment_id=payment_id, gateway=gateway, retry=retry
            ).status
        except Exception:  # one bad payment must not stop the others
            session.rollback()
            log.exception("payment %s could not be attempted", payment_id)
            status = "error"
        report.payments[status] = report.payments.get(status, 0) + 1
    for refund_id in due_refund_ids(session, limit=limit):
        try:
            status = attempt_refund(
                session, refund_id=refund_id, gateway=gateway, retry=retry
            ).status
        except Exception:
            session.rollback()
            log.exception("refund %s could not be attempted", refund_id)
            status = "error"
        report.refunds[status] = report.refunds.get(status, 0) + 1
    return report
