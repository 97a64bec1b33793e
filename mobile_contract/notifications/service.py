"""Devices, the notifications feed and push delivery, as use cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.domain_errors import Forbidden, NotFound
from app.notifications import Notification
from app.pagination import PageRequest
from app.sync import SyncPage, Tombstone, record_deletion, sync_page
from auth.actor import Actor
from mobile_contract.notifications.models import DeviceToken, PushDelivery
from mobile_contract.notifications.push import PushMessage, PushResult, PushSender

DEVICE_RECORD_TYPE = "device"
NOTIFICATION_RECORD_TYPE = "notification"


def _user_id(actor: Actor) -> str:
    if actor.user_id is None:
        raise Forbidden("Only a signed-in person has devices and notifications.")
    return actor.user_id


def register_device(
    session: Session, *, actor: Actor, platform: str, token: str
) -> tuple[DeviceToken, bool]:
    """Register this phone for pushes to the signed-in user; True when it is new."""
    user_id = _user_id(actor)
    device = session.scalars(
        select(DeviceToken)
        .where(DeviceToken.platform == platform, DeviceToken.token == token)
        .with_for_update()
    ).first()
    created = device is None
    if device is None:
        device = DeviceToken(user_id=user_id, platform=platform, token=token)
        try:
            with session.begin_nested():
                session.add(device)
        except IntegrityError:  # registered concurrently: take that row over
            device = session.scalars(
                select(DeviceToken).where(
                    DeviceToken.platform == platform, DeviceToken.token == token
                )
            ).one()
            created = False
    # Someone else signed in on this phone: the token now belongs to them.
    device.user_id = user_id
    device.last_registered_at = utcnow()
    session.commit()
    return device, created


def sync_devices(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    updated_since: datetime | None,
    overlap_seconds: int,
) -> SyncPage[DeviceToken]:
    """The phones registered for your notifications (changes since `updated_since`)."""
    user_id = _user_id(actor)
    return sync_page(
        session,
        select(DeviceToken).where(DeviceToken.user_id == user_id),
        updated_at=DeviceToken.updated_at,
        id=DeviceToken.id,
        page=page,
        scope="devices",
        updated_since=updated_since,
        record_type=DEVICE_RECORD_TYPE,
        deleted_visible=Tombstone.owner_id == user_id,
        overlap_seconds=overlap_seconds,
    )


def remove_device(session: Session, *, actor: Actor, device_id: str) -> None:
    """Stop pushing to this phone (on sign-out)."""
    device = session.get(DeviceToken, device_id)
    if device is None or device.user_id != _user_id(actor):
        raise NotFound()
    _forget(session, device)
    session.commit()


def _forget(session: Session, device: DeviceToken) -> None:
    session.delete(device)
    record_deletion(
        session, record_type=DEVICE_RECORD_TYPE, record_id=device.id, owner_id=device.user_id
    )


def list_notifications(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    unread_only: bool,
    updated_since: datetime | None = None,
    overlap_seconds: int = 0,
) -> SyncPage[Notification]:
    """Your notifications, newest first (only unread ones if asked); with `updated_since`
    only those created, read or unread again since then, oldest change first."""
    user_id = _user_id(actor)
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return sync_page(
        session,
        stmt,
        updated_at=Notification.updated_at,
        id=Notification.id,
        page=page,
        scope="notifications:unread" if unread_only else "notifications",
        updated_since=updated_since,
        record_type=NOTIFICATION_RECORD_TYPE,
        # Notifications are not deleted today; a future delete records this type.
        deleted_visible=Tombstone.owner_id == user_id,
        overlap_seconds=overlap_seconds,
        full_sync_keys=[Notification.created_at, Notification.id],
        full_sync_descending=True,
    )


def count_unread(session: Session, *, actor: Actor) -> int:
    """How many of your notifications are unread (the app's badge)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == _user_id(actor), Notification.read_at.is_(None))
        )
        or 0
    )


def mark_notification(
    session: Session, *, actor: Actor, notification_id: str, read: bool
) -> Notification:
    """Mark one of your notifications read or unread."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != _user_id(actor):
        raise NotFound()
    if read and notification.read_at is None:
        notification.read_at = utcnow()
    elif not read:
        notification.read_at = None
    session.commit()
    return notification


def mark_all_read(session: Session, *, actor: Actor) -> int:
    """Mark every unread notification of yours read; returns how many changed."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == _user_id(actor), Notification.read_at.is_(None))
        .values(read_at=utcnow(), updated_at=utcnow())
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def push_pending(
    session: Session, *, sender: PushSender, created_since: datetime, limit: int = 500
) -> int:
    """Push each stored notification not yet pushed to its user's devices, at most once.

    Each notification is claimed (committed) before sending, so two workers never push
    the same one and no transaction stays open while the push service is called.
    """
    pending = list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.created_at >= created_since,
                ~exists().where(PushDelivery.notification_id == Notification.id),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
    session.rollback()
    pushed = 0
    for notification_id in pending:
        delivery = PushDelivery(notification_id=notification_id)
        try:
            session.add(delivery)
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        notification = session.get(Notification, notification_id)
        if notification is None:
            continue
        devices = list(
            session.scalars(select(DeviceToken).where(DeviceToken.user_id == notification.user_id))
        )
        messages = [
            (
                device.id,
                PushMessage(
                    platform=device.platform,
                    token=device.token,
                    title=notification.title,
                    body=notification.body,
                    data={
                        "notification_id": notification.id,
                        "kind": notification.kind,
                        "record_type": notification.record_type or "",
                        "record_id": notification.record_id or "",
                    },
                ),
            )
            for device in devices
        ]
        session.rollback()
        results = [(device_id, sender.send(message)) for device_id, message in messages]
        sent = sum(1 for _, result in results if result is PushResult.SENT)
        for device_id, result in results:
            if result is PushResult.INVALID_TOKEN:
                stale = session.get(DeviceToken, device_id)
                if stale is not None:
                    _forget(session, stale)
        claimed = session.get(PushDelivery, delivery.id)
        if claimed is not None:
            claimed.devices = sent
        session.commit()
        pushed += 1
    return pushed
