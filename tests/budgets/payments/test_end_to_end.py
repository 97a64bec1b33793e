"""From delivery to money: the provider claims, the person confirms, the worker pays once."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import Person
from tests.budgets.booking_builders import build_booking
from tests.budgets.payments.builders import build_world
from tests.builders import bearer_for, build_person_user
from tests.fake_stripe import FakeStripe


def test_a_confirmed_claim_is_paid_by_the_worker_exactly_once(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    person_user = build_person_user(db_session)
    person = db_session.get(Person, person_user.person_id)
    world = build_world(db_session, fake_stripe, person=person)
    booking = build_booking(db_session, line=world.line, offer=world.offer, units=10)
    provider = bearer_for(db_session, world.owner)
    holder = bearer_for(db_session, person_user)

    claimed = client.post(
        f"/v1/bookings/{booking.id}/claims",
        json={"delivered_on": booking.start_date.isoformat(), "units": 3},
        headers=provider,
    )
    assert claimed.status_code == 201, claimed.get_json()
    claim_id = claimed.json["id"]
    runner = client.application.test_cli_runner()
    unconfirmed = runner.invoke(args=["pay-pending", "--once"])
    assert json.loads(unconfirmed.output.splitlines()[-1])["claims"] == {}
    assert fake_stripe.transfers == {}

    confirmed = client.post(f"/v1/claims/{claim_id}/confirm", headers=holder)
    assert confirmed.status_code == 200, confirmed.get_json()
    for _ in range(2):
        runner.invoke(args=["pay-pending", "--once"])

    (transfer,) = fake_stripe.transfers.values()
    assert transfer["amount"] == 300 and transfer["metadata"]["claim_id"] == claim_id
    assert transfer["destination"] == world.stripe_account_id
    seen = client.get(f"/v1/budgets/{world.budget_id}/payments", headers=holder).json["items"]
    assert [(p["status"], p["amount"]["amount"], p["claim_id"]) for p in seen] == [
        ("paid", 300, claim_id)
    ]
    paid = client.get(f"/v1/providers/{world.organisation.id}/payments", headers=provider)
    assert [p["stripe_transfer_id"] for p in paid.json["items"]] == [transfer["id"]]
    again = client.post(
        f"/v1/claims/{claim_id}/payments", headers=bearer_for(db_session, world.admin)
    )
    assert again.status_code == 409
