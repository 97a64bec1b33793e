"""Paying confirmed claims: one transfer per claim whatever fails, money always accounted for."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import get_db, utcnow
from app.notifications import Notification
from budgets.funding.models import Budget
from budgets.ledger import service as ledger
from budgets.payments import paying
from budgets.payments.extension import payment_gateway
from budgets.payments.models import Payment
from budgets.payments.paying import RetryPolicy
from budgets.payments.worker import drain_once
from tests.budgets.payments.builders import PaymentWorld, build_claim, build_world, payment_of
from tests.builders import bearer_for, build_admin, build_provider_staff
from tests.fake_stripe import FakeStripe

NO_WAIT = RetryPolicy(base_seconds=0, max_seconds=0, lease_seconds=0)


def pay_url(claim_id: str) -> str:
    return f"/v1/claims/{claim_id}/payments"


def figures(session: Session, world: PaymentWorld) -> tuple[int, int, int]:
    overall = ledger.balances(session, budget_id=world.budget_id).overall
    return overall.available, overall.committed, overall.spent


@pytest.fixture
def world(db_session: Session, fake_stripe: FakeStripe) -> PaymentWorld:
    return build_world(db_session, fake_stripe)


def drain(app: Flask, _session: Session | None = None) -> Any:
    """One pass of the worker, in a session of its own as `flask pay-pending` has."""
    session = get_db(app).session_factory()
    try:
        return drain_once(session, gateway=payment_gateway(app), retry=NO_WAIT)
    finally:
        session.close()


def test_paying_a_confirmed_claim_spends_and_transfers_once(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    claim = build_claim(db_session, world, amount_pence=5_000)
    available, committed, spent = figures(db_session, world)
    response = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "paid" and body["amount"] == {"amount": 5_000, "currency": "GBP"}
    (transfer,) = fake_stripe.transfers.values()
    assert body["stripe_transfer_id"] == transfer["id"]
    assert transfer["amount"] == 5_000 and transfer["destination"] == world.stripe_account_id
    assert transfer["transfer_group"] == f"budget-{world.budget_id}"
    assert transfer["metadata"]["claim_id"] == claim.id
    assert transfer["metadata"]["booking_id"] == claim.booking_id
    assert figures(db_session, world) == (available, committed - 5_000, spent + 5_000)
    assert payment_of(db_session, claim, "paid").id == body["id"]  # type: ignore[union-attr]
    told = db_session.scalars(
        select(Notification.user_id).where(Notification.kind == "payments.paid")
    )
    assert list(told) == [world.owner.id]

    shown = client.get(f"/v1/payments/{body['id']}", headers=bearer_for(db_session, world.owner))
    assert shown.status_code == 200 and shown.json["status"] == "paid"


def test_idempotency_key_replays_refuses_other_bodies_and_second_payment_is_409(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    claim = build_claim(db_session, world)
    headers = {**bearer_for(db_session, world.admin), "Idempotency-Key": "pay-once"}
    first = client.post(pay_url(claim.id), headers=headers)
    again = client.post(pay_url(claim.id), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    other_body = client.post(pay_url(claim.id), json={"note": "x"}, headers=headers)
    assert other_body.status_code == 422
    second = client.post(
        pay_url(claim.id),
        headers={**bearer_for(db_session, world.admin), "Idempotency-Key": "another"},
    )
    assert second.status_code == 409
    assert len(fake_stripe.transfers) == 1


def test_refusals_change_nothing(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    admin = bearer_for(db_session, world.admin)
    disputed = build_claim(db_session, world, status="disputed")
    before = figures(db_session, world)
    assert client.post(pay_url(disputed.id), headers=admin).status_code == 409
    assert client.post(pay_url("no-such-claim"), headers=admin).status_code == 404
    stranger = bearer_for(db_session, build_admin(db_session))
    assert client.post(pay_url(disputed.id), headers=stranger).status_code == 404
    staff = bearer_for(db_session, build_provider_staff(db_session))
    assert client.post(pay_url(disputed.id), headers=staff).status_code == 403
    assert client.post(pay_url(disputed.id), json={"x": 1}, headers=admin).status_code == 422
    assert figures(db_session, world) == before
    assert fake_stripe.transfers == {}


def test_a_provider_that_is_not_ready_is_not_paid_and_says_why(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    world = build_world(db_session, fake_stripe, ready=False)
    claim = build_claim(db_session, world)
    before = figures(db_session, world)
    refused = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert refused.status_code == 422
    assert refused.json["code"] == "provider-not-ready"
    assert "external_account" in refused.json["detail"]
    assert figures(db_session, world) == before
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 0


def test_definitive_failure_returns_the_money_to_the_commitment_and_tells_people(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    claim = build_claim(db_session, world, amount_pence=4_000)
    before = figures(db_session, world)
    fake_stripe.inject("account_error", path="/v1/transfers")
    response = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert response.status_code == 201
    assert response.json["status"] == "failed"
    assert response.json["failure_code"] == "account_invalid"
    assert figures(db_session, world) == before
    assert payment_of(db_session, claim, "failed") is not None
    told = set(
        db_session.scalars(
            select(Notification.user_id).where(Notification.kind == "payments.failed")
        )
    )
    assert {world.owner.id, world.admin.id} <= told
    assert fake_stripe.transfers == {}
    # A failed payment is final; the worker leaves it alone.
    assert drain(client.application, db_session).tried == 0
    # Once the provider has sorted out their account, a person may pay the claim again.
    again = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert again.status_code == 201 and again.json["status"] == "paid"
    assert again.json["id"] != response.json["id"]
    assert len(fake_stripe.transfers) == 1
    assert figures(db_session, world) == (before[0], before[1] - 4_000, before[2] + 4_000)
    twice = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert twice.status_code == 409


@pytest.mark.parametrize("fault", ["timeout_after", "server_error_after", "server_error", "drop"])
def test_unknown_outcome_stays_pending_and_the_worker_pays_exactly_once(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
    fault: str,
) -> None:
    claim = build_claim(db_session, world)
    fake_stripe.inject(fault, path="/v1/transfers", delay=1.0)
    response = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert response.status_code == 201
    assert response.json["status"] == "pending"
    payment = db_session.get(Payment, response.json["id"])
    assert payment is not None and payment.last_error
    spent = figures(db_session, world)[2]
    assert spent == claim.amount_pence  # spent while pending: never paid twice from
    payment.next_attempt_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    report = drain(client.application, db_session)
    assert report.payments == {"paid": 1}
    db_session.refresh(payment)
    assert payment.status == "paid"
    assert list(fake_stripe.transfers) == [payment.stripe_transfer_id]
    assert drain(client.application, db_session).tried == 0


@pytest.mark.parametrize("crash_at", ["before_stripe", "after_transfer", "stripe_forgot_key"])
def test_a_crash_at_each_step_then_a_retry_makes_exactly_one_transfer(
    app: Flask,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
    monkeypatch: pytest.MonkeyPatch,
    crash_at: str,
) -> None:
    claim = build_claim(db_session, world)
    db_session.commit()  # the services below commit and roll back on this session
    gateway = payment_gateway(app)
    payment_id = paying.start_payment(db_session, claim_id=claim.id, actor=world.admin_actor)
    if crash_at != "before_stripe":
        original = paying.record_paid

        def crash(*args: Any, **kwargs: Any) -> Any:
            raise SystemExit("the worker died after Stripe answered")

        monkeypatch.setattr(paying, "record_paid", crash)
        with pytest.raises(SystemExit):
            paying.attempt_payment(
                db_session, payment_id=payment_id, gateway=gateway, retry=NO_WAIT
            )
        db_session.rollback()
        monkeypatch.setattr(paying, "record_paid", original)
        assert len(fake_stripe.transfers) == 1
        if crash_at == "stripe_forgot_key":
            fake_stripe.idempotent.clear()  # keys expire after 24 hours at Stripe
    assert db_session.get(Payment, payment_id).status == "pending"  # type: ignore[union-attr]
    if crash_at != "before_stripe":  # the dead worker's lease runs out
        db_session.get(Payment, payment_id).next_attempt_at = None  # type: ignore[union-attr]
        db_session.commit()
    report = drain(app)
    assert report.payments == {"paid": 1}
    payment = db_session.get(Payment, payment_id, populate_existing=True)
    assert payment is not None and payment.status == "paid"
    assert list(fake_stripe.transfers) == [payment.stripe_transfer_id]
    assert payment_of(db_session, claim, "paid").id == payment_id  # type: ignore[union-attr]


def test_transfer_created_webhook_settles_a_pending_payment_once(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    from tests.budgets.payments.conftest import deliver

    claim = build_claim(db_session, world)
    fake_stripe.inject("server_error_after", path="/v1/transfers")
    pending = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert pending.json["status"] == "pending"
    (event,) = [e for e in fake_stripe.events if e["type"] == "transfer.created"]
    assert deliver(client, event).json["outcome"] == "applied"
    assert deliver(client, event).json["outcome"] == "duplicate"
    payment = db_session.get(Payment, pending.json["id"])
    assert payment is not None
    db_session.refresh(payment)
    assert payment.status == "paid"
    paid_notices = db_session.scalar(
        select(func.count()).where(Notification.kind == "payments.paid")
    )
    assert paid_notices == 1
    payment.next_attempt_at = None
    db_session.flush()
    assert drain(client.application, db_session).tried == 0
    assert len(fake_stripe.transfers) == 1


def test_payments_stop_when_the_budget_is_suspended(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    claim = build_claim(db_session, world)
    budget = db_session.get(Budget, world.budget_id)
    assert budget is not None
    budget.status = "suspended"
    db_session.flush()
    refused = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    assert refused.status_code == 409
    assert fake_stripe.transfers == {}


def test_the_worker_pays_confirmed_claims_by_itself_and_waits_for_unready_providers(
    app: Flask, db_session: Session, fake_stripe: FakeStripe
) -> None:
    ready = build_world(db_session, fake_stripe)
    waiting = build_world(db_session, fake_stripe, ready=False)
    claim = build_claim(db_session, ready, amount_pence=3_300)
    build_claim(db_session, waiting, amount_pence=1_100)
    before_waiting = figures(db_session, waiting)
    db_session.commit()
    report = drain(app)
    assert report.claims == {"paid": 1, "provider-not-ready": 1}
    assert payment_of(db_session, claim, "paid") is not None
    assert figures(db_session, waiting) == before_waiting
    (transfer,) = fake_stripe.transfers.values()
    assert transfer["amount"] == 3_300
    # The next pass pays nothing twice.
    assert drain(app).claims == {"provider-not-ready": 1}
    assert len(fake_stripe.transfers) == 1


def test_provider_staff_see_their_payments_and_payouts_page_by_page(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    from tests.budgets.payments.conftest import deliver

    admin = bearer_for(db_session, world.admin)
    made = [
        client.post(pay_url(build_claim(db_session, world).id), headers=admin) for _ in range(3)
    ]
    staff = bearer_for(db_session, world.owner)
    url = f"/v1/providers/{world.organisation.id}/payments"
    first = client.get(url, query_string={"limit": 2}, headers=staff)
    assert first.status_code == 200
    assert [p["id"] for p in first.json["items"]] == [made[2].json["id"], made[1].json["id"]]
    rest = client.get(
        url, query_string={"limit": 2, "cursor": first.json["next_cursor"]}, headers=staff
    )
    assert [p["id"] for p in rest.json["items"]] == [made[0].json["id"]]
    assert rest.json["next_cursor"] is None
    assert client.get(url, query_string={"status": "failed"}, headers=staff).json["items"] == []
    assert client.get(url, query_string={"status": "nope"}, headers=staff).status_code == 422
    outsider = bearer_for(db_session, build_provider_staff(db_session))
    assert client.get(url, headers=outsider).status_code == 404
    assert client.get(url, headers=admin).status_code == 403

    deliver(client, fake_stripe.pay_out(world.stripe_account_id, 15_000))
    payouts = client.get(f"/v1/providers/{world.organisation.id}/payouts", headers=staff)
    assert [(p["status"], p["amount"]["amount"]) for p in payouts.json["items"]] == [
        ("paid", 15_000)
    ]
    shown = client.get(f"/v1/providers/{world.organisation.id}/payouts", headers=outsider)
    assert shown.status_code == 404


class WatchingGateway:
    """Wraps the gateway and records whether the session had a transaction open per call."""

    def __init__(self, inner: Any, session: Session) -> None:
        self.inner, self.session = inner, session
        self.calls: list[tuple[str, bool]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, self.session.in_transaction()))
            return attribute(*args, **kwargs)

        return call


def test_no_transaction_is_open_while_stripe_is_called(
    app: Flask, db_session: Session, fake_stripe: FakeStripe
) -> None:
    from budgets.payments import refunds
    from budgets.payments.reconciliation import reconcile

    world = build_world(db_session, fake_stripe)
    claim = build_claim(db_session, world)
    db_session.commit()
    gateway = WatchingGateway(payment_gateway(app), db_session)
    fake_stripe.inject("server_error", path="/v1/transfers")
    payment = paying.pay_claim(
        db_session, claim_id=claim.id, actor=world.admin_actor, gateway=gateway, retry=NO_WAIT
    )
    assert payment.status == "pending"
    report = drain_once(db_session, gateway=gateway, retry=NO_WAIT)  # type: ignore[arg-type]
    assert report.payments == {"paid": 1}
    refund = refunds.request_refund(
        db_session,
        payment_id=payment.id,
        amount_pence=100,
        currency="GBP",
        reason="Overpaid",
        actor=world.admin_actor,
        gateway=gateway,  # type: ignore[arg-type]
    )
    assert refund.status == "reversed"
    assert reconcile(db_session, gateway=gateway, since=utcnow() - timedelta(days=1)) == []  # type: ignore[arg-type]
    names = [name for name, _ in gateway.calls]
    assert {"create_transfer", "list_transfers", "create_reversal"} <= set(names)
    assert [call for call in gateway.calls if call[1]] == []


def test_the_person_and_their_helpers_see_payments_from_the_budget(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    from auth.models import Person
    from tests.builders import build_representative

    claim = build_claim(db_session, world, amount_pence=2_200)
    fake_stripe.inject("account_error", path="/v1/transfers")
    failed = client.post(pay_url(claim.id), headers=bearer_for(db_session, world.admin))
    person = db_session.get(Person, world.line.plan.person_id)
    assert person is not None
    representative = bearer_for(db_session, build_representative(db_session, person=person))
    url = f"/v1/budgets/{world.budget_id}/payments"
    shown = client.get(url, headers=representative)
    assert shown.status_code == 200
    assert [(p["id"], p["status"]) for p in shown.json["items"]] == [(failed.json["id"], "failed")]
    assert shown.json["items"][0]["failure_reason"]
    assert (
        client.get(url, headers=bearer_for(db_session, build_admin(db_session))).status_code == 404
    )
    assert client.get(f"/v1/budgets/{world.budget_id}/payments").status_code == 401
