"""Fixtures for budget tests: a commissioner with an admin, a broker and a person."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from auth.models import Commissioner, Person, User
from tests.builders import (
    bearer_for,
    build_admin,
    build_broker,
    build_commissioner,
    build_person_user,
    build_representative,
)


@dataclass
class Cast:
    commissioner: Commissioner
    admin: User
    broker: User
    person_user: User
    person: Person
    representative: User
    stranger: User  # a person of the same commissioner with no link to `person`
    other_admin: User  # an admin of another commissioner
    other_broker: User  # a broker of the same commissioner without this person

    def headers(self, session: Session, user: User) -> dict[str, str]:
        return bearer_for(session, user)


@pytest.fixture
def cast(db_session: Session) -> Cast:
    commissioner = build_commissioner(db_session)
    broker = build_broker(db_session, commissioner_id=commissioner.id)
    person_user = build_person_user(
        db_session, commissioner_id=commissioner.id, broker_id=broker.id
    )
    person = db_session.get(Person, person_user.person_id)
    assert person is not None
    return Cast(
        commissioner=commissioner,
        admin=build_admin(db_session, commissioner_id=commissioner.id),
        broker=broker,
        person_user=person_user,
        person=person,
        representative=build_representative(db_session, person=person),
        stranger=build_person_user(db_session, commissioner_id=commissioner.id),
        other_admin=build_admin(db_session),
        other_broker=build_broker(db_session, commissioner_id=commissioner.id),
    )
