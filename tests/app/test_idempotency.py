"""Idempotency-Key: replay, reuse with another body, scope per caller, in-flight duplicates."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import get_db, utcnow
from app.idempotency import IdempotencyRecord
from auth.models import Commissioner
from tests.app.probe_api import blp as probe_blp
from tests.app.probe_api import dying_blp
from tests.app.test_errors import assert_problem
from tests.builders import bearer_for, build_user

URL = "/v1/_probe/commissioners"
BODY = {"name": "Idempotent ICB", "kind": "icb"}


def count_named(session: Session, name: str) -> int:
    return session.scalar(select(func.count()).where(Commissioner.name == name)) or 0


@pytest.fixture
def auth(db_session):  # type: ignore[no-untyped-def]
    return bearer_for(db_session, build_user(db_session))


def test_without_a_key_each_post_acts(probe_client: FlaskClient, auth, db_session) -> None:  # type: ignore[no-untyped-def]
    probe_client.post(URL, json=BODY, headers=auth)
    probe_client.post(URL, json=BODY, headers=auth)
    assert count_named(db_session, BODY["name"]) == 2


def test_replay_returns_the_stored_response_and_acts_once(
    probe_client: FlaskClient, auth, db_session
) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth, "Idempotency-Key": "key-1"}
    first = probe_client.post(URL, json=BODY, headers=headers)
    second = probe_client.post(URL, json=dict(reversed(list(BODY.items()))), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count_named(db_session, BODY["name"]) == 1


def test_same_key_different_body_is_422(probe_client: FlaskClient, auth, db_session) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth, "Idempotency-Key": "key-2"}
    probe_client.post(URL, json=BODY, headers=headers)
    response = probe_client.post(URL, json={**BODY, "name": "Other"}, headers=headers)
    assert_problem(response, 422, "idempotency-key-reused")
    assert count_named(db_session, "Other") == 0


def test_keys_are_scoped_to_the_caller(probe_client: FlaskClient, auth, db_session) -> None:  # type: ignore[no-untyped-def]
    other = bearer_for(db_session, build_user(db_session))
    probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "shared"})
    response = probe_client.post(URL, json=BODY, headers={**other, "Idempotency-Key": "shared"})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert count_named(db_session, BODY["name"]) == 2


def test_a_failed_request_releases_the_key(probe_client: FlaskClient, auth, db_session) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth, "Idempotency-Key": "key-3"}
    bad = probe_client.post(URL, json={"name": "Retry ICB"}, headers=headers)
    assert bad.status_code == 422
    good = probe_client.post(URL, json={"name": "Retry ICB"} | {"kind": "icb"}, headers=headers)
    assert good.status_code == 201


def test_in_flight_duplicate_is_409(probe_client: FlaskClient, auth, db_session) -> None:  # type: ignore[no-untyped-def]
    first = probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "key-4"})
    record = db_session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "key-4")
    ).one()
    record.state = "in_progress"
    record.locked_at = utcnow()
    db_session.flush()
    response = probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "key-4"})
    assert first.status_code == 201
    assert_problem(response, 409, "idempotency-key-in-use")


def test_a_claim_left_in_progress_by_a_dead_worker_is_taken_over(
    probe_client: FlaskClient, auth, db_session
) -> None:  # type: ignore[no-untyped-def]
    probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "key-6"})
    record = db_session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "key-6")
    ).one()
    record.state = "in_progress"
    record.locked_at = utcnow() - timedelta(hours=1)
    db_session.flush()
    again = probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "key-6"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    db_session.refresh(record)
    assert record.state == "completed" and record.response_body == again.get_data(as_text=True)


def test_expired_key_acts_again(probe_client: FlaskClient, auth, db_session) -> None:  # type: ignore[no-untyped-def]
    probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "key-5"})
    record = db_session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "key-5")
    ).one()
    assert record.expires_at - utcnow() >= timedelta(hours=24)
    record.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    again = probe_client.post(URL, json=BODY, headers={**auth, "Idempotency-Key": "key-5"})
    assert "Idempotent-Replayed" not in again.headers
    assert count_named(db_session, BODY["name"]) == 2


def _claims(session: Session, key: str) -> int:
    statement = select(func.count()).where(IdempotencyRecord.key == key)
    return session.scalar(statement) or 0


def test_work_and_its_stored_response_commit_together(committed_app: Flask) -> None:
    """A worker that dies after the view's own commit, before the response is stored,
    leaves nothing behind: a retry does the work once, never twice."""
    committed_app.extensions["api"].register_blueprint(probe_blp)
    committed_app.extensions["api"].register_blueprint(dying_blp)
    session = get_db(committed_app).session_factory()
    headers = {**bearer_for(session, build_user(session)), "Idempotency-Key": "dies"}
    session.commit()
    client = committed_app.test_client()
    died = client.post(f"{URL}/dying", json=BODY, headers=headers)
    assert died.status_code == 500
    assert count_named(session, BODY["name"]) == 0
    assert _claims(session, "dies") == 0
    session.rollback()  # on SQLite, an open transaction would lock the retry out
    retried = client.post(URL, json=BODY, headers=headers)
    assert retried.status_code == 201
    assert count_named(session, BODY["name"]) == 1
    session.close()


def test_work_in_steps_keeps_its_commits(committed_app: Flask) -> None:
    committed_app.extensions["api"].register_blueprint(dying_blp)
    session = get_db(committed_app).session_factory()
    headers = {**bearer_for(session, build_user(session)), "Idempotency-Key": "steps"}
    session.commit()
    died = committed_app.test_client().post(f"{URL}/dying-in-steps", json=BODY, headers=headers)
    assert died.status_code == 500
    assert count_named(session, BODY["name"]) == 1
    assert _claims(session, "steps") == 0
    session.close()


def test_concurrent_retries_act_exactly_once(committed_app: Flask) -> None:
    """Every duplicate does the work; the first to store its response wins, and the others'
    INSERT waits for it, finds the key taken, rolls their work back and replays."""
    committed_app.extensions["api"].register_blueprint(probe_blp)
    session = get_db(committed_app).session_factory()
    headers = bearer_for(session, build_user(session))
    session.commit()
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    replayed: list[bool] = []
    ids: set[str] = set()

    def attempt() -> None:
        client = committed_app.test_client()
        barrier.wait()
        response = client.post(URL, json=BODY, headers={**headers, "Idempotency-Key": "race"})
        statuses.append(response.status_code)
        replayed.append(response.headers.get("Idempotent-Replayed") == "true")
        if response.status_code == 201:
            ids.add(response.get_json()["id"])

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 8
    assert sorted(replayed) == [False] + [True] * 7
    assert len(ids) == 1
    assert count_named(session, BODY["name"]) == 1
    session.close()
