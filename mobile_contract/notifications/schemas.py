"""Schemas for devices and the notifications feed."""

from __future__ import annotations

import marshmallow as ma

from app.sync import SyncArgsSchema
from mobile_contract.notifications.models import PLATFORMS


class DeviceRegisterSchema(ma.Schema):
    """The push token the phone's platform gave the app."""

    class Meta:
        unknown = ma.RAISE

    platform = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(PLATFORMS),
        metadata={"description": "ios (APNs token) or android (FCM token)"},
    )
    token = ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(min=16, max=512),
            ma.validate.Regexp(r"^[A-Za-z0-9_:.\-]+$", error="Not a push token."),
        ],
        metadata={"description": "The APNs device token or FCM registration token"},
    )


class DeviceSchema(ma.Schema):
    """A phone registered for notifications (the token itself is never sent back)."""

    id = ma.fields.String(dump_only=True)
    platform = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True, format="iso")
    last_registered_at = ma.fields.AwareDateTime(dump_only=True, format="iso")


class NotificationSchema(ma.Schema):
    """One notification: short and non-clinical; the app opens the record for detail."""

    id = ma.fields.String(dump_only=True)
    kind = ma.fields.String(
        dump_only=True,
        metadata={
            "description": "What happened, e.g. plan_decided, booking_accepted, "
            "booking_declined, claim_to_confirm, payment_made, ips_appointment. New kinds "
            "may appear: show the title and body of kinds you do not know."
        },
    )
    title = ma.fields.String(dump_only=True)
    body = ma.fields.String(dump_only=True)
    record_type = ma.fields.String(dump_only=True, allow_none=True)
    record_id = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True, format="iso")
    read_at = ma.fields.AwareDateTime(dump_only=True, format="iso", allow_none=True)


class NotificationQueryArgsSchema(SyncArgsSchema):
    """Page through the feed, optionally only unread notifications, or sync it with
    `updated_since` (sync without `unread`, so notifications read elsewhere come back)."""

    unread = ma.fields.Boolean(
        load_default=False, metadata={"description": "Only unread notifications"}
    )


class UnreadCountSchema(ma.Schema):
    unread = ma.fields.Integer(dump_only=True, metadata={"description": "Unread notifications"})


class MarkedCountSchema(ma.Schema):
    updated = ma.fields.Integer(dump_only=True, metadata={"description": "Notifications changed"})
