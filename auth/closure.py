"""Closing an account: the login stops working everywhere at once.

Closing revokes every token the user holds (on every app and device) and removes every
phone registered for push notifications, in one transaction with the audit row. The
person's records are kept: a budget's money must still be accounted for, and retention
(`app/data_protection/retention.py`) decides when identity goes.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import InvalidState, NotFound
from app.sync import record_deletion
from auth.access import can_see_person
from auth.actor import Actor
from auth.models import OAuthToken, User
from auth.roles import Role
from mobile_contract.notifications.models import DeviceToken
from mobile_contract.notifications.service import DEVICE_RECORD_TYPE


def close_own_account(session: Session, *, actor: Actor) -> User:
    """Close the signed-in user's own account."""
    if actor.user_id is None:
        raise NotFound("A client acting for itself has no account to close.")
    return _close(session, user_id=actor.user_id, actor=actor)


def close_account_for_person(session: Session, *, actor: Actor, user_id: str) -> User:
    """An admin closes the login of one of their commissioner's people (404 otherwise)."""
    user = session.get(User, user_id)
    if (
        user is None
        or user.person_id is None
        or not actor.has_role(Role.ADMIN)
        or not can_see_person(session, actor, user.person_id)
    ):
        raise NotFound("No such account.")
    return _close(session, user_id=user_id, actor=actor)


def _close(session: Session, *, user_id: str, actor: Actor) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    if not user.is_active:
        raise InvalidState("This account is already closed.")
    now = utcnow()
    user.is_active = False
    revoked = cast(
        CursorResult[Any],
        session.execute(
            update(OAuthToken)
            .where(OAuthToken.user_id == user_id, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
        ),
    ).rowcount
    devices = list(session.scalars(select(DeviceToken).where(DeviceToken.user_id == user_id)))
    for device in devices:
        record_deletion(
            session, record_type=DEVICE_RECORD_TYPE, record_id=device.id, owner_id=user_id
        )
        session.delete(device)
    record_audit(
        session,
        actor=actor,
        action="account.close",
        record_type="user",
        record_id=user_id,
        subject_person_id=user.person_id,
        details={"tokens_revoked": int(revoked or 0), "devices_removed": len(devices)},
    )
    session.commit()
    return user
