"""Device registration and the notifications feed under /v1."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.sync import SyncArgsSchema, sync_schema
from auth.guard import require_auth
from auth.roles import Scope
from mobile_contract.notifications import service
from mobile_contract.notifications.schemas import (
    DeviceRegisterSchema,
    DeviceSchema,
    MarkedCountSchema,
    NotificationQueryArgsSchema,
    NotificationSchema,
    UnreadCountSchema,
)

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/v1",
    description="Your devices for push notifications, and your notifications feed",
)

_DEVICE = {
    "id": "0193a0b2-7c1e-7d3a-9f00-5b2c1d4e6f70",
    "platform": "ios",
    "created_at": "2026-11-25T09:30:00Z",
    "last_registered_at": "2026-11-25T09:30:00Z",
}
_NOTIFICATION = {
    "id": "0193a0b3-1a2b-7c3d-8e4f-a1b2c3d4e5f6",
    "kind": "plan_decided",
    "title": "Your plan was approved",
    "body": "Your support plan for 2027 is approved. Tap to see it.",
    "record_type": "plan",
    "record_id": "0193a0a0-0000-7000-8000-000000000001",
    "created_at": "2026-11-25T10:02:11Z",
    "read_at": None,
}


@blp.route("/devices")
class Devices(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.arguments(SyncArgsSchema(), location="query")
    @blp.response(
        200,
        sync_schema(DeviceSchema),
        example={
            "items": [_DEVICE],
            "next_cursor": None,
            "deleted": [
                {"id": "0193a0b2-0000-7000-8000-00000000dead", "deleted_at": "2026-11-24T18:00:00Z"}
            ],
            "synced_at": "2026-11-25T09:59:30Z",
        },
    )
    def get(self, args: dict[str, Any]) -> Any:
        """Your phones registered for notifications (delta sync with `updated_since`)."""
        return service.sync_devices(
            get_session(),
            actor=g.actor,
            page=args["page"],
            updated_since=args["updated_since"],
            overlap_seconds=args["sync_overlap_seconds"],
        )

    @require_auth(Scope.NOTIFICATIONS)
    @idempotent
    @blp.arguments(DeviceRegisterSchema(), example={"platform": "ios", "token": "a1b2c3" * 11})
    @blp.response(201, DeviceSchema, example=_DEVICE, description="Registered")
    @blp.alt_response(
        200,
        schema=DeviceSchema,
        example=_DEVICE,
        description="Already registered: now yours, registration refreshed",
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Register this phone's push token (call after each sign-in and token refresh)."""
        device, created = service.register_device(get_session(), actor=g.actor, **data)
        return device, 201 if created else 200


@blp.route("/devices/<device_id>")
class DeviceItem(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.response(204, description="Removed: no more pushes to this phone")
    @documents_problems(404)
    def delete(self, device_id: str) -> None:
        """Remove a phone (call on sign-out)."""
        service.remove_device(get_session(), actor=g.actor, device_id=device_id)


@blp.route("/notifications")
class Notifications(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.arguments(NotificationQueryArgsSchema(), location="query")
    @blp.response(
        200,
        sync_schema(NotificationSchema),
        example={
            "items": [_NOTIFICATION],
            "next_cursor": None,
            "deleted": [],
            "synced_at": "2026-11-25T10:04:30Z",
        },
    )
    def get(self, args: dict[str, Any]) -> Any:
        """Your notifications, newest first (delta sync with `updated_since`: oldest change
        first)."""
        return service.list_notifications(
            get_session(),
            actor=g.actor,
            page=args["page"],
            unread_only=args["unread"],
            updated_since=args["updated_since"],
            overlap_seconds=args["sync_overlap_seconds"],
        )


@blp.route("/notifications/unread-count")
class UnreadCount(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.response(200, UnreadCountSchema, example={"unread": 3})
    def get(self) -> Any:
        """How many notifications are unread (for the app badge)."""
        return {"unread": service.count_unread(get_session(), actor=g.actor)}


@blp.route("/notifications/read-all")
class ReadAll(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.response(200, MarkedCountSchema, example={"updated": 3})
    def post(self) -> Any:
        """Mark all your notifications read."""
        return {"updated": service.mark_all_read(get_session(), actor=g.actor)}


@blp.route("/notifications/<notification_id>/read")
class Read(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.response(
        200, NotificationSchema, example={**_NOTIFICATION, "read_at": "2026-11-25T10:05:00Z"}
    )
    @documents_problems(404)
    def post(self, notification_id: str) -> Any:
        """Mark a notification read."""
        return service.mark_notification(
            get_session(), actor=g.actor, notification_id=notification_id, read=True
        )


@blp.route("/notifications/<notification_id>/unread")
class Unread(MethodView):
    @require_auth(Scope.NOTIFICATIONS)
    @blp.response(200, NotificationSchema, example=_NOTIFICATION)
    @documents_problems(404)
    def post(self, notification_id: str) -> Any:
        """Mark a notification unread again."""
        return service.mark_notification(
            get_session(), actor=g.actor, notification_id=notification_id, read=False
        )
