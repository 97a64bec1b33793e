"""Representatives: every action records who acted and for whom, and in what capacity."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from auth.access import acting_as, audit_for_person
from auth.actor import Actor
from auth.guard import actor_for_token
from auth.tokens import find_live_access_token
from tests.auth.oauth_client import bearer, sign_in_for_tokens, user_with_password
from tests.builders import build_person, build_representative


def test_capacity_for_each_kind_of_actor() -> None:
    parent = Actor(user_id="u1", client_id="app", represented_person_ids=frozenset({"child"}))
    assert acting_as(parent, "child") == "representative"
    assert acting_as(Actor(user_id="u2", client_id="app", person_id="me"), "me") == "self"
    broker = Actor(user_id="u3", client_id="app", roles=frozenset({"broker"}))
    assert acting_as(broker, "someone") == "broker"
    assert acting_as(Actor(user_id=None, client_id="back-office"), None) == "back_office"


def test_a_representative_signed_in_through_oauth_is_recorded_with_the_person(
    client: FlaskClient, db_session: Session
) -> None:
    child = build_person(db_session)
    parent = user_with_password(db_session, build_representative(db_session, person=child))
    tokens = sign_in_for_tokens(client, parent)
    me = client.get("/v1/me", headers=bearer(tokens["access_token"])).get_json()
    assert [p["id"] for p in me["acts_for"]] == [child.id]

    row = find_live_access_token(db_session, tokens["access_token"])
    assert row is not None
    actor = actor_for_token(db_session, row)
    assert actor is not None
    entry_id = audit_for_person(
        db_session,
        actor=actor,
        person_id=child.id,
        action="plan.submitted",
        record_type="care_plan",
        record_id="plan-1",
    )
    entry = db_session.get(AuditEntry, entry_id)
    assert entry is not None
    assert (entry.actor_user_id, entry.subject_person_id) == (parent.id, child.id)
    assert entry.details == {"acting_as": "representative"}
    assert entry.actor_client_id == "test-app"
