"""Provider owners create, list and revoke back-office clients; the client then uses the
client credentials grant for that organisation only."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.guard import actor_for_token
from auth.models import OAuthClient
from auth.tokens import find_live_access_token
from tests.app.test_errors import assert_problem
from tests.builders import bearer_for, build_person_user, build_provider, build_provider_staff


def _create(client: FlaskClient, headers: dict[str, str], **body: object):  # type: ignore[no-untyped-def]
    return client.post("/v1/back-office-clients", json=body, headers=headers)


def test_owner_creates_a_client_that_gets_tokens_for_the_organisation_only(
    client: FlaskClient, db_session: Session
) -> None:
    organisation = build_provider(db_session)
    owner = bearer_for(db_session, build_provider_staff(db_session, organisation=organisation))
    created = _create(
        client, owner, organisation_id=organisation.id, name="Rota", scopes=["bookings:manage"]
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["scopes"] == ["bookings:manage"] and body["client_secret"]
    stored = db_session.get(OAuthClient, body["client_id"])
    assert stored is not None and body["client_secret"] not in (stored.client_secret_hash or "")

    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200, token.get_data(as_text=True)
    row = find_live_access_token(db_session, token.get_json()["access_token"])
    assert row is not None
    actor = actor_for_token(db_session, row)
    assert actor is not None and actor.organisation_ids == {organisation.id}
    assert actor.scopes == {"bookings:manage"}

    listed = client.get(f"/v1/back-office-clients?organisation_id={organisation.id}", headers=owner)
    assert [c["client_id"] for c in listed.get_json()["items"]] == [body["client_id"]]
    assert "client_secret" not in listed.get_json()["items"][0]

    revoked = client.post(f"/v1/back-office-clients/{body['client_id']}/revoke", headers=owner)
    assert revoked.status_code == 200 and revoked.get_json()["is_active"] is False
    db_session.expire_all()
    assert find_live_access_token(db_session, token.get_json()["access_token"]) is None
    again = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(body["client_id"], body["client_secret"]),
    )
    assert again.get_json()["error"] == "invalid_client"


def test_who_may_manage_clients(client: FlaskClient, db_session: Session) -> None:
    organisation = build_provider(db_session)
    staff = bearer_for(
        db_session,
        build_provider_staff(db_session, organisation=organisation, membership_role="staff"),
    )
    outsider = bearer_for(db_session, build_provider_staff(db_session))
    person = bearer_for(db_session, build_person_user(db_session))
    body = {"organisation_id": organisation.id, "name": "Rota"}
    assert_problem(_create(client, staff, **body), 403, "forbidden")
    assert_problem(_create(client, outsider, **body), 404, "not-found")
    assert_problem(_create(client, person, **body), 403, "insufficient-scope")
    assert_problem(client.post("/v1/back-office-clients", json=body), 401, "unauthorized")


def test_client_refusals(client: FlaskClient, db_session: Session) -> None:
    unverified = build_provider(db_session, status="unverified")
    owner = bearer_for(db_session, build_provider_staff(db_session, organisation=unverified))
    refused = _create(client, owner, organisation_id=unverified.id, name="Rota")
    assert_problem(refused, 422, "rule-violation")
    organisation = build_provider(db_session)
    owner = bearer_for(db_session, build_provider_staff(db_session, organisation=organisation))
    for bad in (
        {"organisation_id": organisation.id, "name": "Rota", "scopes": ["profile"]},
        {"organisation_id": organisation.id, "name": ""},
        {"organisation_id": organisation.id, "name": "Rota", "client_secret": "mine"},
    ):
        assert_problem(_create(client, owner, **bad), 422, "validation-error")
    other = build_provider(db_session)
    other_owner = bearer_for(db_session, build_provider_staff(db_session, organisation=other))
    made = _create(client, owner, organisation_id=organisation.id, name="Rota").get_json()
    stolen = client.post(f"/v1/back-office-clients/{made['client_id']}/revoke", headers=other_owner)
    assert_problem(stolen, 404, "not-found")
    peek = client.get(
        f"/v1/back-office-clients?organisation_id={organisation.id}", headers=other_owner
    )
    assert_problem(peek, 404, "not-found")
