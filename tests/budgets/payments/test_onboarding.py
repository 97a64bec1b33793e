"""Connect onboarding: the owner sets up the Stripe account, gets a link, staff see readiness."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.notifications import Notification
from tests.budgets.payments.conftest import deliver
from tests.builders import bearer_for, build_admin, build_provider, build_provider_staff
from tests.fake_stripe import FakeStripe

URL = "/v1/providers/{}/stripe-account"


def test_owner_onboards_and_staff_see_readiness_synced_from_webhooks(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    organisation = build_provider(db_session)
    owner = build_provider_staff(db_session, organisation=organisation)
    staff = build_provider_staff(db_session, organisation=organisation, membership_role="staff")
    owner_headers = bearer_for(db_session, owner)
    staff_headers = bearer_for(db_session, staff)

    before = client.get(URL.format(organisation.id), headers=staff_headers)
    assert before.status_code == 200
    assert before.json["status"] == "not_started" and before.json["ready"] is False
    assert before.json["reasons"]

    created = client.post(URL.format(organisation.id), headers=owner_headers)
    assert created.status_code == 201, created.json
    account_id = created.json["stripe_account_id"]
    assert account_id in fake_stripe.accounts
    assert created.json["status"] == "onboarding"
    assert fake_stripe.accounts[account_id]["metadata"] == {"organisation_id": organisation.id}

    again = client.post(URL.format(organisation.id), headers=owner_headers)
    assert again.status_code == 409
    assert len(fake_stripe.accounts) == 1

    link = client.post(URL.format(organisation.id) + "/onboarding-links", headers=owner_headers)
    assert link.status_code == 201
    assert link.json["url"].startswith(fake_stripe.base_url)
    assert fake_stripe.calls("POST", "/v1/account_links")[-1]["params"]["account"] == account_id

    event = fake_stripe.complete_onboarding(account_id)
    assert deliver(client, event).json == {"received": True, "outcome": "applied"}
    ready = client.get(URL.format(organisation.id), headers=staff_headers)
    assert ready.json["status"] == "ready" and ready.json["ready"] is True
    assert ready.json["reasons"] == [] and ready.json["payouts_enabled"] is True
    kinds = db_session.query(Notification.kind, Notification.user_id).all()
    assert ("payments.account_ready", staff.id) in kinds

    restricted = fake_stripe.restrict_account(account_id, due=["external_account"])
    deliver(client, restricted)
    shown = client.get(URL.format(organisation.id), headers=staff_headers).json
    assert shown["status"] == "restricted"
    assert shown["requirements_due"] == ["external_account"]
    assert any("external_account" in reason for reason in shown["reasons"])


def test_only_owners_set_up_payments(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    organisation = build_provider(db_session)
    staff = build_provider_staff(db_session, organisation=organisation, membership_role="staff")
    headers = bearer_for(db_session, staff)
    assert client.post(URL.format(organisation.id), headers=headers).status_code == 403
    link = client.post(URL.format(organisation.id) + "/onboarding-links", headers=headers)
    assert link.status_code == 403
    assert fake_stripe.accounts == {}


def test_other_organisations_and_roles_cannot_see_or_act(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    organisation = build_provider(db_session)
    outsider = bearer_for(db_session, build_provider_staff(db_session))
    admin = bearer_for(db_session, build_admin(db_session))
    assert client.get(URL.format(organisation.id), headers=outsider).status_code == 404
    assert client.post(URL.format(organisation.id), headers=outsider).status_code == 404
    assert client.get(URL.format(organisation.id), headers=admin).status_code == 403
    assert client.get(URL.format(organisation.id)).status_code == 401
    assert client.get(URL.format("no-such-org"), headers=outsider).status_code == 404


def test_link_before_account_and_unknown_fields(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    organisation = build_provider(db_session)
    headers = bearer_for(db_session, build_provider_staff(db_session, organisation=organisation))
    link = client.post(URL.format(organisation.id) + "/onboarding-links", headers=headers)
    assert link.status_code == 409
    refused = client.post(URL.format(organisation.id), json={"country": "US"}, headers=headers)
    assert refused.status_code == 422
    assert fake_stripe.accounts == {}


def test_stripe_down_changes_nothing(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    organisation = build_provider(db_session)
    headers = bearer_for(db_session, build_provider_staff(db_session, organisation=organisation))
    fake_stripe.inject("server_error", path="/v1/accounts")
    failed = client.post(URL.format(organisation.id), headers=headers)
    assert failed.status_code == 503
    assert client.get(URL.format(organisation.id), headers=headers).json["status"] == "not_started"
    retried = client.post(URL.format(organisation.id), headers=headers)
    assert retried.status_code == 201
    assert len(fake_stripe.accounts) == 1


def test_retry_after_a_lost_response_finds_the_same_stripe_account(
    client: FlaskClient, db_session: Session, fake_stripe: FakeStripe
) -> None:
    organisation = build_provider(db_session)
    headers = bearer_for(db_session, build_provider_staff(db_session, organisation=organisation))
    fake_stripe.inject("server_error_after", path="/v1/accounts")
    assert client.post(URL.format(organisation.id), headers=headers).status_code == 503
    assert len(fake_stripe.accounts) == 1
    retried = client.post(URL.format(organisation.id), headers=headers)
    assert retried.status_code == 201
    assert retried.json["stripe_account_id"] == next(iter(fake_stripe.accounts))
