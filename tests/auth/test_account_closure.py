"""Closing an account revokes every token and every registered phone at once."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.sync import Tombstone
from auth.models import OAuthToken, Person, User
from mobile_contract.notifications.models import DeviceToken
from tests.app.test_errors import assert_problem
from tests.builders import bearer_for, build_admin, build_person_user


def _devices(session: Session, user: User, count: int) -> None:
    for n in range(count):
        session.add(DeviceToken(user_id=user.id, platform="ios", token=f"apns-{user.id}-{n}"))
    session.flush()


def test_closing_my_account_revokes_every_token_and_phone(
    client: FlaskClient, db_session: Session
) -> None:
    user = build_person_user(db_session)
    phone, tablet = bearer_for(db_session, user), bearer_for(db_session, user)
    _devices(db_session, user, 2)

    response = client.post("/v1/me/close", headers=phone)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_active"] is False
    for headers in (phone, tablet):
        assert_problem(client.get("/v1/me", headers=headers), 401, "unauthorized")
    tokens = db_session.scalars(select(OAuthToken).where(OAuthToken.user_id == user.id)).all()
    assert tokens and all(t.revoked_at is not None for t in tokens)
    assert db_session.scalars(select(DeviceToken).where(DeviceToken.user_id == user.id)).all() == []
    gone = db_session.scalars(select(Tombstone).where(Tombstone.owner_id == user.id)).all()
    assert len(gone) == 2  # syncing apps learn the phones are gone
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "account.close")).one()
    assert entry.details == {"tokens_revoked": 2, "devices_removed": 2}
    assert db_session.get(Person, user.person_id) is not None  # records are kept


def test_an_admin_closes_a_login_of_their_commissioner_only(
    client: FlaskClient, db_session: Session
) -> None:
    user = build_person_user(db_session)
    person = db_session.get(Person, user.person_id)
    assert person is not None
    token = bearer_for(db_session, user)
    own_admin = build_admin(db_session, commissioner_id=person.commissioner_id)
    other_admin = build_admin(db_session)
    path = f"/v1/accounts/{user.id}/close"

    assert_problem(client.post(path, headers=bearer_for(db_session, other_admin)), 404, "not-found")
    assert client.get("/v1/me", headers=token).status_code == 200
    assert client.post(path, headers=bearer_for(db_session, own_admin)).status_code == 200
    assert_problem(client.get("/v1/me", headers=token), 401, "unauthorized")
    again = client.post(path, headers=bearer_for(db_session, own_admin))
    assert_problem(again, 409, "invalid-state")


def test_people_cannot_close_other_accounts(client: FlaskClient, db_session: Session) -> None:
    user, other = build_person_user(db_session), build_person_user(db_session)
    response = client.post(f"/v1/accounts/{other.id}/close", headers=bearer_for(db_session, user))
    assert_problem(response, 403, "insufficient-scope")
