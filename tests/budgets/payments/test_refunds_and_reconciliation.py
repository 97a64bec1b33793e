"""Refunds and clawbacks through transfer reversals, and reconciliation with Stripe."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from budgets.ledger import service as ledger
from budgets.payments.models import Payment, PaymentRefund
from tests.budgets.payments.builders import PaymentWorld, build_claim, build_world
from tests.budgets.payments.conftest import deliver
from tests.builders import bearer_for, build_admin
from tests.conftest import make_app
from tests.fake_stripe import FakeStripe


@pytest.fixture
def world(db_session: Session, fake_stripe: FakeStripe) -> PaymentWorld:
    return build_world(db_session, fake_stripe)


@pytest.fixture
def paid(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> dict[str, Any]:
    claim = build_claim(db_session, world, amount_pence=6_000)
    response = client.post(
        f"/v1/claims/{claim.id}/payments", headers=bearer_for(db_session, world.admin)
    )
    assert response.json["status"] == "paid"
    return dict(response.json)


def available(session: Session, world: PaymentWorld) -> int:
    return ledger.balances(session, budget_id=world.budget_id).overall.available


def refund(client: FlaskClient, headers: dict[str, str], payment_id: str, pence: int) -> Any:
    return client.post(
        f"/v1/payments/{payment_id}/refunds",
        json={"amount": {"amount": pence, "currency": "GBP"}, "reason": "Session not delivered"},
        headers=headers,
    )


def test_partial_then_full_refund_returns_money_to_the_budget(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
    paid: dict[str, Any],
) -> None:
    admin = {**bearer_for(db_session, world.admin), "Idempotency-Key": "refund-1"}
    before = available(db_session, world)
    first = refund(client, admin, paid["id"], 2_000)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "reversed" and first.json["stripe_reversal_id"]
    replay = refund(client, admin, paid["id"], 2_000)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert available(db_session, world) == before + 2_000
    transfer = fake_stripe.transfers[paid["stripe_transfer_id"]]
    assert transfer["amount_reversed"] == 2_000

    too_much = refund(client, bearer_for(db_session, world.admin), paid["id"], 4_001)
    assert too_much.status_code == 422 and too_much.json["code"] == "refund-exceeds-payment"
    rest = refund(client, bearer_for(db_session, world.admin), paid["id"], 4_000)
    assert rest.json["status"] == "reversed"
    assert available(db_session, world) == before + 6_000
    assert transfer["reversed"] is True
    payment = db_session.get(Payment, paid["id"], populate_existing=True)
    assert payment is not None and payment.refunded_pence == 6_000

    # Stripe's webhook for our own reversal changes nothing twice.
    (event, *_) = [e for e in reversed(fake_stripe.events) if e["type"] == "transfer.reversed"]
    assert deliver(client, event).json["outcome"] == "unchanged"
    assert available(db_session, world) == before + 6_000


def test_refund_refusals(
    client: FlaskClient, db_session: Session, world: PaymentWorld, paid: dict[str, Any]
) -> None:
    admin = bearer_for(db_session, world.admin)
    stranger = bearer_for(db_session, build_admin(db_session))
    assert refund(client, stranger, paid["id"], 100).status_code == 404
    assert refund(client, bearer_for(db_session, world.owner), paid["id"], 100).status_code == 403
    bad = client.post(
        f"/v1/payments/{paid['id']}/refunds",
        json={"amount": {"amount": -5, "currency": "GBP"}, "reason": ""},
        headers=admin,
    )
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"amount", "reason"}
    assert refund(client, admin, "no-such-payment", 100).status_code == 404


def test_a_clawback_made_in_stripe_arrives_by_webhook_once(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
    paid: dict[str, Any],
) -> None:
    before = available(db_session, world)
    event = fake_stripe.reverse_directly(paid["stripe_transfer_id"], 1_500)
    assert deliver(client, event).json["outcome"] == "applied"
    assert deliver(client, dict(event, id="evt_redelivered_copy")).json["outcome"] == "unchanged"
    assert available(db_session, world) == before + 1_500
    refunds = db_session.scalars(select(PaymentRefund)).all()
    assert [(r.status, r.amount_pence, r.reason) for r in refunds] == [
        ("reversed", 1_500, "Reversed in Stripe")
    ]


def test_refund_with_stripe_down_stays_pending_until_the_worker_gets_through(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
    paid: dict[str, Any],
) -> None:
    from tests.budgets.payments.test_paying import drain

    before = available(db_session, world)
    fake_stripe.inject("timeout_after", path="/v1/transfers/", delay=1.0)
    pending = refund(client, bearer_for(db_session, world.admin), paid["id"], 1_000)
    assert pending.json["status"] == "pending"
    assert available(db_session, world) == before  # only a confirmed reversal returns money
    record = db_session.get(PaymentRefund, pending.json["id"])
    assert record is not None
    record.next_attempt_at = None
    db_session.flush()
    assert drain(client.application).refunds == {"reversed": 1}
    assert available(db_session, world) == before + 1_000
    reversals = fake_stripe.transfers[paid["stripe_transfer_id"]]["reversals"]["data"]
    assert len(reversals) == 1


def test_reconciliation_finds_both_kinds_of_mismatch(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
    paid: dict[str, Any],
) -> None:
    runner = client.application.test_cli_runner()
    clean = runner.invoke(args=["reconcile-payments"])
    assert clean.exit_code == 0, clean.output
    assert "0 mismatch(es)" in clean.output

    stray = fake_stripe.add_transfer_directly(amount=999, destination=world.stripe_account_id)
    second = build_claim(db_session, world, amount_pence=2_500)
    made = client.post(
        f"/v1/claims/{second.id}/payments", headers=bearer_for(db_session, world.admin)
    )
    fake_stripe.delete_transfer(made.json["stripe_transfer_id"])

    result = runner.invoke(args=["reconcile-payments", "--days", "7"])
    assert result.exit_code == 1
    found = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    kinds = {(m["kind"], m["payment_id"], m["transfer_id"]) for m in found}
    assert kinds == {
        ("unrecorded-transfer", None, stray["id"]),
        ("missing-in-stripe", made.json["id"], made.json["stripe_transfer_id"]),
    }


def test_pay_pending_command_runs_once(
    client: FlaskClient,
    db_session: Session,
    fake_stripe: FakeStripe,
    world: PaymentWorld,
) -> None:
    claim = build_claim(db_session, world)
    fake_stripe.inject("server_error", path="/v1/transfers")
    pending = client.post(
        f"/v1/claims/{claim.id}/payments", headers=bearer_for(db_session, world.admin)
    )
    assert pending.json["status"] == "pending"
    payment = db_session.get(Payment, pending.json["id"])
    assert payment is not None
    payment.next_attempt_at = None
    db_session.flush()
    runner = client.application.test_cli_runner()
    result = runner.invoke(args=["pay-pending", "--once"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["payments"] == {"paid": 1}
    continuous = runner.invoke(args=["pay-pending", "--interval", "0", "--max-passes", "2"])
    assert continuous.exit_code == 0
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 1
    assert len(fake_stripe.transfers) == 1


def test_commands_without_stripe_configured_say_so(engine: Engine) -> None:
    app = make_app(engine)
    runner = app.test_cli_runner()
    reconciled = runner.invoke(args=["reconcile-payments"])
    assert reconciled.exit_code == 1 and "not configured" in reconciled.output
    drained = runner.invoke(args=["pay-pending", "--once"])
    assert drained.exit_code == 0, drained.output
