"""Object-level access rules, answered once for every domain."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain_errors import Forbidden, NotFound
from auth.access import (
    can_see_person,
    require_organisation_access,
    require_person_access,
    require_role,
    visible_people_clause,
)
from auth.actor import Actor
from auth.models import Person
from auth.roles import Role
from tests.builders import build_commissioner, build_person, build_user


def actor(**kwargs) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(user_id=kwargs.pop("user_id", "u"), client_id="c", **kwargs)


def visible(session, who: Actor) -> set[str]:  # type: ignore[no-untyped-def]
    return set(session.scalars(select(Person.id).where(visible_people_clause(who, Person.id))))


def test_person_sees_only_themselves(db_session) -> None:  # type: ignore[no-untyped-def]
    me, other = build_person(db_session), build_person(db_session)
    who = actor(roles=frozenset({"person"}), person_id=me.id)
    assert visible(db_session, who) == {me.id}
    assert can_see_person(db_session, who, me.id)
    with pytest.raises(NotFound):
        require_person_access(db_session, who, other.id)


def test_representative_sees_the_people_they_act_for(db_session) -> None:  # type: ignore[no-untyped-def]
    child, stranger = build_person(db_session), build_person(db_session)
    who = actor(roles=frozenset({"representative"}), represented_person_ids=frozenset({child.id}))
    assert visible(db_session, who) == {child.id}
    assert not can_see_person(db_session, who, stranger.id)


def test_broker_sees_their_caseload_only(db_session) -> None:  # type: ignore[no-untyped-def]
    broker = build_user(db_session, roles=(Role.BROKER,))
    mine = build_person(db_session, broker_id=broker.id)
    build_person(db_session)
    who = actor(user_id=broker.id, roles=frozenset({"broker"}))
    assert visible(db_session, who) == {mine.id}


def test_admin_sees_their_commissioners_people(db_session) -> None:  # type: ignore[no-untyped-def]
    icb = build_commissioner(db_session)
    ours = build_person(db_session, commissioner_id=icb.id)
    theirs = build_person(db_session)
    who = actor(roles=frozenset({"admin"}), commissioner_id=icb.id)
    assert ours.id in visible(db_session, who) and theirs.id not in visible(db_session, who)


def test_provider_staff_see_no_people_directly(db_session) -> None:  # type: ignore[no-untyped-def]
    build_person(db_session)
    assert visible(db_session, actor(roles=frozenset({"provider_staff"}))) == set()


def test_organisation_access_is_404_outside_it() -> None:
    who = actor(roles=frozenset({"provider_staff"}), organisation_ids=frozenset({"org-a"}))
    require_organisation_access(who, "org-a")
    with pytest.raises(NotFound):
        require_organisation_access(who, "org-b")


def test_role_check_is_403() -> None:
    with pytest.raises(Forbidden):
        require_role(actor(roles=frozenset({"person"})), Role.BROKER)
