"""A person sees who looked at their records; an admin searches the log for their people."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.audit import record_audit
from auth.actor import Actor
from auth.models import Person
from tests.app.test_errors import assert_problem
from tests.builders import (
    bearer_for,
    build_admin,
    build_broker,
    build_person_user,
    build_representative,
)


def _read_by(session: Session, reader_id: str, person_id: str, record_type: str = "budget"):  # type: ignore[no-untyped-def]
    time.sleep(0.002)  # distinct timestamps, so "newest first" has one right answer
    entry = record_audit(
        session,
        actor=Actor(user_id=reader_id, client_id="test-app"),
        action="read",
        record_type=record_type,
        record_id="rec-1",
        subject_person_id=person_id,
    )
    session.flush()
    return entry


def test_a_person_sees_who_read_their_records_with_names_and_roles(
    client: FlaskClient, db_session: Session
) -> None:
    user = build_person_user(db_session)
    broker = build_broker(db_session, display_name="Bola Broker")
    _read_by(db_session, broker.id, user.person_id)
    body = client.get("/v1/me/audit-trail", headers=bearer_for(db_session, user)).get_json()
    assert [(e["actor_name"], e["actor_roles"], e["record_type"]) for e in body["items"]] == [
        ("Bola Broker", ["broker"], "budget")
    ]


def test_nobody_sees_another_persons_trail(client: FlaskClient, db_session: Session) -> None:
    user = build_person_user(db_session)
    stranger = build_person_user(db_session)
    _read_by(db_session, build_broker(db_session).id, user.person_id)
    body = client.get("/v1/me/audit-trail", headers=bearer_for(db_session, stranger)).get_json()
    assert body["items"] == []
    filtered = client.get(
        f"/v1/me/audit-trail?person_id={user.person_id}", headers=bearer_for(db_session, stranger)
    ).get_json()
    assert filtered["items"] == []


def test_a_representative_sees_the_trail_of_the_person_they_act_for(
    client: FlaskClient, db_session: Session
) -> None:
    user = build_person_user(db_session)
    person = db_session.get(Person, user.person_id)
    assert person is not None
    parent = build_representative(db_session, person=person)
    _read_by(db_session, build_broker(db_session).id, person.id)
    body = client.get("/v1/me/audit-trail", headers=bearer_for(db_session, parent)).get_json()
    assert [e["subject_person_id"] for e in body["items"]] == [person.id]


def test_the_trail_pages_newest_first(client: FlaskClient, db_session: Session) -> None:
    user = build_person_user(db_session)
    broker = build_broker(db_session)
    entries = [_read_by(db_session, broker.id, user.person_id) for _ in range(3)]
    headers = bearer_for(db_session, user)
    first = client.get("/v1/me/audit-trail?limit=2", headers=headers).get_json()
    second = client.get(
        f"/v1/me/audit-trail?limit=2&cursor={first['next_cursor']}", headers=headers
    ).get_json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == list(reversed(entries))
    assert second["next_cursor"] is None


def test_an_admin_searches_by_person_and_record_within_their_commissioner(
    client: FlaskClient, db_session: Session
) -> None:
    user = build_person_user(db_session)
    person = db_session.get(Person, user.person_id)
    assert person is not None
    admin = build_admin(db_session, commissioner_id=person.commissioner_id)
    outsider = build_person_user(db_session)
    broker = build_broker(db_session)
    _read_by(db_session, broker.id, person.id, "plan")
    _read_by(db_session, broker.id, outsider.person_id, "plan")
    headers = bearer_for(db_session, admin)
    by_person = client.get(f"/v1/audit-entries?person_id={person.id}", headers=headers)
    assert [e["subject_person_id"] for e in by_person.get_json()["items"]] == [person.id]
    by_record = client.get("/v1/audit-entries?record_type=plan&record_id=rec-1", headers=headers)
    assert [e["subject_person_id"] for e in by_record.get_json()["items"]] == [person.id]
    other = client.get(f"/v1/audit-entries?person_id={outsider.person_id}", headers=headers)
    assert other.get_json()["items"] == []


def test_only_admins_search_the_log(client: FlaskClient, db_session: Session) -> None:
    broker = build_broker(db_session)
    response = client.get("/v1/audit-entries", headers=bearer_for(db_session, broker))
    assert_problem(response, 403, "insufficient-scope")
