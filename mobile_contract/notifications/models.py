"""Registered devices and the record of which notifications were pushed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, utcnow

PLATFORMS = ("ios", "android")


class DeviceToken(IdMixin, TimestampMixin, Base):
    """A phone the user signed in on, with the push token its platform gave the app."""

    __tablename__ = "device_tokens"
    # A token belongs to one install; when someone else signs in on that phone it moves.
    __table_args__ = (UniqueConstraint("platform", "token"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # ios | android
    token: Mapped[str] = mapped_column(String(512))
    last_registered_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushDelivery(IdMixin, Base):
    """A notification the push sender has handled (so it is pushed at most once)."""

    __tablename__ = "push_deliveries"

    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), unique=True
    )
    devices: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
