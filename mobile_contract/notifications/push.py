"""Sending to a push service goes through one small interface: `PushSender.send`.

The default `LoggingPushSender` only logs (which notification, which platform, the token's
last characters; never the text), so development and tests need no push credentials. An
APNs or FCM sender implements the same method and is picked by PUSH_SENDER.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("mobile_contract.push")


class PushResult(enum.StrEnum):
    SENT = "sent"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (the app was uninstalled: forget the device)
    FAILED = "failed"


@dataclass(frozen=True)
class PushMessage:
    """One notification for one device. `data` lets the app open the record it is about."""

    platform: str
    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)


class PushSender(Protocol):
    """Delivers one message to one device through the platform's push service."""

    def send(self, message: PushMessage) -> PushResult: ...


class LoggingPushSender:
    """Logs each push instead of sending it (the default)."""

    def send(self, message: PushMessage) -> PushResult:
        log.info(
            "push",
            extra={
                "platform": message.platform,
                "token_suffix": message.token[-6:],
                "notification_id": message.data.get("notification_id"),
                "kind": message.data.get("kind"),
            },
        )
        return PushResult.SENT


SENDERS: dict[str, type[PushSender]] = {"logging": LoggingPushSender}


def sender_named(name: str) -> PushSender:
    """The push sender PUSH_SENDER names."""
    try:
        return SENDERS[name]()
    except KeyError as exc:
        raise ValueError(f"PUSH_SENDER must be one of {', '.join(SENDERS)}, got {name!r}") from exc
