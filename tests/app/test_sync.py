"""Delta sync through the client, on the test-only people collection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.pagination import CursorCodec
from app.sync import Tombstone, purge_tombstones
from auth.models import Person
from tests.app.sync_api import blp as sync_blp
from tests.builders import bearer_for, build_broker, build_person
from tests.conftest import RolledBackDatabase, make_app

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sync_app(engine: Engine) -> Flask:
    app = make_app(engine)
    app.extensions["api"].register_blueprint(sync_blp)
    return app


@pytest.fixture
def sync_client(sync_app: Flask, rolled_back: RolledBackDatabase) -> Iterator[FlaskClient]:
    rolled_back.bind(sync_app)
    yield sync_app.test_client()


def _caseload(session: Session, count: int) -> tuple[dict[str, str], list[Person]]:
    broker = build_broker(session)
    people = [
        build_person(session, broker_id=broker.id, commissioner_id=broker.commissioner_id)
        for _ in range(count)
    ]
    for n, person in enumerate(people):
        person.updated_at = T0 + timedelta(hours=n)
    session.flush()
    return bearer_for(session, broker), people


def _get(client: FlaskClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = client.get("/v1/_sync/people", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_full_sync_lists_everything_oldest_change_first(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, people = _caseload(db_session, 3)
    body = _get(sync_client, headers)
    assert [p["id"] for p in body["items"]] == [p.id for p in people]
    assert body["deleted"] == []
    synced_at = datetime.fromisoformat(body["synced_at"])
    assert synced_at <= datetime.now(UTC) - timedelta(seconds=29)


def test_updated_since_returns_only_changes_and_deletions(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, people = _caseload(db_session, 4)
    since = datetime.now(UTC) - timedelta(minutes=1)
    people[0].given_name = "Renamed"
    people[0].updated_at = datetime.now(UTC)
    # e.g. a plan of this person was deleted; the person stays visible to their broker
    db_session.add(Tombstone(record_type="person", record_id="p-gone", owner_id=people[1].id))
    db_session.add(Tombstone(record_type="plan", record_id="other-type", owner_id=people[1].id))
    db_session.flush()
    body = _get(sync_client, headers, updated_since=_iso(since))
    assert [p["id"] for p in body["items"]] == [people[0].id]
    assert body["items"][0]["given_name"] == "Renamed"
    assert [d["id"] for d in body["deleted"]] == ["p-gone"]
    assert datetime.fromisoformat(body["deleted"][0]["deleted_at"]) >= since


def test_changes_page_with_cursors_and_deletions_come_on_the_first_page(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, people = _caseload(db_session, 5)
    since = T0 + timedelta(minutes=30)  # after the first person's change
    db_session.add(Tombstone(record_type="person", record_id="gone", owner_id=people[0].id))
    db_session.flush()
    first = _get(sync_client, headers, updated_since=_iso(since), limit=3)
    second = _get(
        sync_client, headers, updated_since=_iso(since), limit=3, cursor=first["next_cursor"]
    )
    assert second["synced_at"] == first["synced_at"]
    seen = [p["id"] for page in (first, second) for p in page["items"]]
    assert seen == [p.id for p in people[1:]]
    assert second["next_cursor"] is None
    assert [d["id"] for d in first["deleted"]] == ["gone"]
    assert second["deleted"] == []


def test_a_cursor_cannot_be_reused_with_another_updated_since(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, _ = _caseload(db_session, 3)
    first = _get(sync_client, headers, limit=1)
    response = sync_client.get(
        "/v1/_sync/people",
        headers=headers,
        query_string={"cursor": first["next_cursor"], "updated_since": _iso(T0)},
    )
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/invalid-cursor"


def test_deletions_of_other_peoples_records_are_not_reported(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, _ = _caseload(db_session, 1)
    stranger = build_person(db_session)
    since = datetime.now(UTC) - timedelta(minutes=1)
    db_session.add(Tombstone(record_type="person", record_id=stranger.id, owner_id=stranger.id))
    db_session.flush()
    assert _get(sync_client, headers, updated_since=_iso(since))["deleted"] == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "Not a valid"),
        ("2026-11-01T09:00:00", "Not a valid aware"),
        ("2020-01-01T00:00:00Z", "sync from scratch"),
        ("2999-01-01T00:00:00Z", "in the future"),
    ],
)
def test_bad_updated_since_is_a_field_error(
    sync_client: FlaskClient, db_session: Session, value: str, message: str
) -> None:
    headers, _ = _caseload(db_session, 1)
    response = sync_client.get(
        "/v1/_sync/people", headers=headers, query_string={"updated_since": value}
    )
    assert response.status_code == 422
    body = response.get_json()
    assert message in " ".join(body["errors"]["updated_since"])


def test_purge_removes_only_expired_tombstones(db_session: Session) -> None:
    old = Tombstone(record_type="x", record_id="old", owner_id=None)
    old.deleted_at = datetime.now(UTC) - timedelta(days=91)
    recent = Tombstone(record_type="x", record_id="recent", owner_id=None)
    db_session.add_all([old, recent])
    db_session.flush()
    assert purge_tombstones(db_session, older_than_days=90) >= 1
    left = db_session.scalars(select(Tombstone.record_id).where(Tombstone.record_type == "x"))
    assert list(left) == ["recent"]


def test_a_deletion_while_paging_is_reported_by_the_next_sync(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, people = _caseload(db_session, 3)
    first = _get(sync_client, headers, limit=2)
    db_session.add(Tombstone(record_type="person", record_id="mid-sync", owner_id=people[0].id))
    db_session.flush()
    last = _get(sync_client, headers, limit=2, cursor=first["next_cursor"])
    assert last["next_cursor"] is None
    following = _get(sync_client, headers, updated_since=last["synced_at"])
    assert [d["id"] for d in following["deleted"]] == ["mid-sync"]


def test_a_plain_list_cursor_is_not_a_sync_cursor(
    sync_client: FlaskClient, db_session: Session
) -> None:
    headers, _ = _caseload(db_session, 1)
    codec = CursorCodec("testing-only-secret-key-not-for-any-real-deployment")
    forged = codec.encode("sync:people:-", ["2026-01-01", "x"])
    response = sync_client.get("/v1/_sync/people", headers=headers, query_string={"cursor": forged})
    assert response.status_code == 400
