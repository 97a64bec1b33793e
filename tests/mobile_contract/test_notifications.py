"""Device registration, the notifications feed, and push delivery through the sender."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.notifications import Notification, notify
from auth.models import User
from mobile_contract.notifications.models import DeviceToken, PushDelivery
from mobile_contract.notifications.push import (
    LoggingPushSender,
    PushMessage,
    PushResult,
    sender_named,
)
from mobile_contract.notifications.service import push_pending
from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_broker,
    build_person_user,
    build_provider,
)

TOKEN = "f" * 64


def _register(client: FlaskClient, headers: dict[str, str], **body: str) -> tuple[int, dict]:
    response = client.post(
        "/v1/devices", json={"platform": "ios", "token": TOKEN, **body}, headers=headers
    )
    return response.status_code, response.get_json()


def _notify(session: Session, user: User, n: int) -> list[Notification]:
    created = [
        notify(session, user_ids=[user.id], kind="plan_decided", title=f"Plan {i}")[0]
        for i in range(n)
    ]
    start = datetime.now(UTC) - timedelta(minutes=n)
    for i, notification in enumerate(created):
        notification.created_at = start + timedelta(minutes=i)
    session.flush()
    return created


class TestDevices:
    def test_register_list_and_remove(self, client: FlaskClient, db_session: Session) -> None:
        headers = bearer_for(db_session, build_person_user(db_session))
        status, device = _register(client, headers)
        assert status == 201
        assert device["platform"] == "ios" and "token" not in device
        listed = client.get("/v1/devices", headers=headers).get_json()
        assert [d["id"] for d in listed["items"]] == [device["id"]]
        assert client.delete(f"/v1/devices/{device['id']}", headers=headers).status_code == 204
        assert client.get("/v1/devices", headers=headers).get_json()["items"] == []

    def test_registering_again_refreshes_instead_of_duplicating(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        headers = bearer_for(db_session, build_person_user(db_session))
        first_status, first = _register(client, headers)
        again_status, again = _register(client, headers)
        assert (first_status, again_status) == (201, 200)
        assert again["id"] == first["id"]

    def test_a_token_moves_to_whoever_signs_in_on_the_phone(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        first_user, second_user = build_person_user(db_session), build_person_user(db_session)
        _, device = _register(client, bearer_for(db_session, first_user))
        _register(client, bearer_for(db_session, second_user))
        assert db_session.get(DeviceToken, device["id"]).user_id == second_user.id  # type: ignore[union-attr]

    def test_registration_is_idempotent_with_a_key(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        headers = {
            **bearer_for(db_session, build_person_user(db_session)),
            "Idempotency-Key": "device-1",
        }
        first = client.post(
            "/v1/devices", json={"platform": "ios", "token": TOKEN}, headers=headers
        )
        replay = client.post(
            "/v1/devices", json={"platform": "ios", "token": TOKEN}, headers=headers
        )
        assert first.status_code == replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        other = client.post(
            "/v1/devices", json={"platform": "android", "token": TOKEN}, headers=headers
        )
        assert other.status_code == 422

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"platform": "windows", "token": TOKEN}, "platform"),
            ({"platform": "ios", "token": "short"}, "token"),
            ({"platform": "ios", "token": "<script>" * 4}, "token"),
            ({"platform": "ios"}, "token"),
            ({"platform": "ios", "token": TOKEN, "extra": 1}, "extra"),
        ],
    )
    def test_bad_registrations_are_field_errors(
        self, client: FlaskClient, db_session: Session, body: dict, field: str
    ) -> None:
        headers = bearer_for(db_session, build_person_user(db_session))
        response = client.post("/v1/devices", json=body, headers=headers)
        assert response.status_code == 422
        assert field in response.get_json()["errors"]

    def test_someone_elses_device_is_404(self, client: FlaskClient, db_session: Session) -> None:
        _, device = _register(client, bearer_for(db_session, build_person_user(db_session)))
        stranger = bearer_for(db_session, build_broker(db_session))
        assert client.delete(f"/v1/devices/{device['id']}", headers=stranger).status_code == 404
        assert client.delete("/v1/devices/nope", headers=stranger).status_code == 404

    def test_needs_sign_in_and_the_notifications_scope(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        assert client.get("/v1/devices").status_code == 401
        user = build_person_user(db_session)
        narrow = bearer_for(db_session, user, scopes={"profile"})
        response = client.get("/v1/devices", headers=narrow)
        assert response.status_code == 403
        assert response.get_json()["type"] == "/problems/insufficient-scope"

    def test_a_back_office_client_has_no_devices(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        provider = build_provider(db_session)
        headers = bearer_for_back_office(db_session, provider, scopes={"notifications"})
        assert client.get("/v1/devices", headers=headers).status_code == 403


class TestFeed:
    def test_newest_first_with_paging_and_unread_filter(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        user = build_person_user(db_session)
        created = _notify(db_session, user, 3)
        headers = bearer_for(db_session, user)
        first = client.get("/v1/notifications?limit=2", headers=headers).get_json()
        assert [n["title"] for n in first["items"]] == ["Plan 2", "Plan 1"]
        rest = client.get(
            "/v1/notifications", headers=headers, query_string={"cursor": first["next_cursor"]}
        ).get_json()
        assert [n["title"] for n in rest["items"]] == ["Plan 0"] and rest["next_cursor"] is None
        read = client.post(f"/v1/notifications/{created[1].id}/read", headers=headers)
        assert read.status_code == 200 and read.get_json()["read_at"] is not None
        unread = client.get("/v1/notifications?unread=true", headers=headers).get_json()
        assert [n["title"] for n in unread["items"]] == ["Plan 2", "Plan 0"]
        assert client.get("/v1/notifications/unread-count", headers=headers).get_json() == {
            "unread": 2
        }

    def test_mark_unread_and_read_all(self, client: FlaskClient, db_session: Session) -> None:
        user = build_person_user(db_session)
        created = _notify(db_session, user, 3)
        headers = bearer_for(db_session, user)
        assert client.post("/v1/notifications/read-all", headers=headers).get_json() == {
            "updated": 3
        }
        again = client.post(f"/v1/notifications/{created[0].id}/unread", headers=headers)
        assert again.get_json()["read_at"] is None
        assert client.get("/v1/notifications/unread-count", headers=headers).get_json() == {
            "unread": 1
        }

    def test_others_notifications_are_invisible(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        owner, other = build_person_user(db_session), build_person_user(db_session)
        [mine] = _notify(db_session, owner, 1)
        headers = bearer_for(db_session, other)
        assert client.get("/v1/notifications", headers=headers).get_json()["items"] == []
        assert client.post(f"/v1/notifications/{mine.id}/read", headers=headers).status_code == 404
        assert db_session.get(Notification, mine.id).read_at is None  # type: ignore[union-attr]

    def test_bad_query_is_422(self, client: FlaskClient, db_session: Session) -> None:
        headers = bearer_for(db_session, build_person_user(db_session))
        assert client.get("/v1/notifications?unread=maybe", headers=headers).status_code == 422


class RecordingSender:
    def __init__(self, result: PushResult = PushResult.SENT) -> None:
        self.sent: list[PushMessage] = []
        self.result = result

    def send(self, message: PushMessage) -> PushResult:
        self.sent.append(message)
        return self.result


class TestPush:
    def test_each_notification_goes_to_each_device_once(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        user = build_person_user(db_session)
        headers = bearer_for(db_session, user)
        _register(client, headers)
        _register(client, headers, platform="android", token="a" * 40)
        [notification] = _notify(db_session, user, 1)
        db_session.commit()  # the sender runs as a job: it sees committed notifications
        sender = RecordingSender()
        since = datetime.now(UTC) - timedelta(hours=1)
        assert push_pending(db_session, sender=sender, created_since=since) == 1
        assert sorted(m.platform for m in sender.sent) == ["android", "ios"]
        assert sender.sent[0].data["notification_id"] == notification.id
        assert push_pending(db_session, sender=sender, created_since=since) == 0
        delivery = db_session.scalars(
            select(PushDelivery).where(PushDelivery.notification_id == notification.id)
        ).one()
        assert delivery.devices == 2

    def test_an_invalid_token_forgets_the_device(
        self, client: FlaskClient, db_session: Session
    ) -> None:
        user = build_person_user(db_session)
        _, device = _register(client, bearer_for(db_session, user))
        _notify(db_session, user, 1)
        db_session.commit()
        since = datetime.now(UTC) - timedelta(hours=1)
        push_pending(
            db_session, sender=RecordingSender(PushResult.INVALID_TOKEN), created_since=since
        )
        assert db_session.get(DeviceToken, device["id"]) is None

    def test_the_logging_sender_logs_no_text(self, caplog: pytest.LogCaptureFixture) -> None:
        message = PushMessage(
            platform="ios",
            token="secret-token-123456",
            title="Your plan was approved",
            body="detail",
            data={"notification_id": "n1", "kind": "plan_decided"},
        )
        with caplog.at_level(logging.INFO, logger="mobile_contract.push"):
            assert LoggingPushSender().send(message) is PushResult.SENT
        [record] = caplog.records
        assert record.notification_id == "n1" and record.token_suffix == "123456"  # type: ignore[attr-defined]
        assert "approved" not in caplog.text and "secret-token" not in caplog.text

    def test_senders_are_chosen_by_name(self) -> None:
        assert isinstance(sender_named("logging"), LoggingPushSender)
        with pytest.raises(ValueError, match="PUSH_SENDER"):
            sender_named("carrier-pigeon")


def test_devices_delta_sync_reports_changes_and_removals(
    client: FlaskClient, db_session: Session
) -> None:
    headers = bearer_for(db_session, build_person_user(db_session))
    _, kept = _register(client, headers)
    _, removed = _register(client, headers, platform="android", token="b" * 40)
    full = client.get("/v1/devices", headers=headers).get_json()
    assert {d["id"] for d in full["items"]} == {kept["id"], removed["id"]}
    assert full["deleted"] == []
    since = full["synced_at"]
    client.delete(f"/v1/devices/{removed['id']}", headers=headers)
    _register(client, headers)  # refreshing a registration counts as a change
    delta = client.get("/v1/devices", headers=headers, query_string={"updated_since": since})
    body = delta.get_json()
    assert [d["id"] for d in body["items"]] == [kept["id"]]
    assert [d["id"] for d in body["deleted"]] == [removed["id"]]
    other = bearer_for(db_session, build_person_user(db_session))
    theirs = client.get("/v1/devices", headers=other, query_string={"updated_since": since})
    assert theirs.get_json()["deleted"] == []


def test_send_pushes_and_purge_tombstones_commands_run(committed_app) -> None:  # type: ignore[no-untyped-def]
    runner = committed_app.test_cli_runner()
    pushed = runner.invoke(args=["send-pushes", "--hours", "1"])
    assert pushed.exit_code == 0 and "pushed 0 notifications" in pushed.output
    purged = runner.invoke(args=["purge-tombstones"])
    assert purged.exit_code == 0 and "purged 0 tombstones" in purged.output
