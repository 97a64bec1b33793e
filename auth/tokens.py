"""Opaque bearer tokens: generation, hashing, issuing and looking up.

Tokens are random strings; only their SHA-256 is stored, so a database leak yields no
usable token. Access tokens live minutes (ACCESS_TOKEN_LIFETIME_SECONDS); refresh tokens
rotate on each use within idle and absolute limits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_id, utcnow
from auth.models import OAuthToken


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    """A new unguessable token string."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenLifetimes:
    access_seconds: int
    refresh_idle_seconds: int
    refresh_absolute_seconds: int


@dataclass(frozen=True)
class IssuedToken:
    """What the client receives (the only time the plaintext exists)."""

    row: OAuthToken
    access_token: str
    refresh_token: str | None
    expires_in: int

    def as_response(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.row.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


def issue_token(
    session: Session,
    *,
    client_id: str,
    user_id: str | None,
    scope: str,
    lifetimes: TokenLifetimes,
    with_refresh_token: bool,
    parent: OAuthToken | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Add a token row (a child of `parent` when rotating) and return its plaintext once."""
    now = now or utcnow()
    access = generate_token()
    refresh = generate_token() if with_refresh_token else None
    family_expires = (
        parent.family_expires_at
        if parent is not None
        else (now + timedelta(seconds=lifetimes.refresh_absolute_seconds) if refresh else None)
    )
    refresh_expires = None
    if refresh and family_expires is not None:
        refresh_expires = min(
            now + timedelta(seconds=lifetimes.refresh_idle_seconds), family_expires
        )
    row = OAuthToken(
        client_id=client_id,
        user_id=user_id,
        scope=scope,
        access_token_hash=token_hash(access),
        refresh_token_hash=token_hash(refresh) if refresh else None,
        family_id=parent.family_id if parent is not None else new_id(),
        parent_id=parent.id if parent is not None else None,
        issued_at=now,
        access_expires_at=now + timedelta(seconds=lifetimes.access_seconds),
        refresh_expires_at=refresh_expires,
        family_expires_at=family_expires,
    )
    session.add(row)
    session.flush()
    return IssuedToken(
        row=row, access_token=access, refresh_token=refresh, expires_in=lifetimes.access_seconds
    )


def find_live_access_token(
    session: Session, access_token: str, *, now: datetime | None = None
) -> OAuthToken | None:
    """The token row for a presented access token, if it is unexpired and not revoked."""
    now = now or utcnow()
    row = session.scalars(
        select(OAuthToken).where(OAuthToken.access_token_hash == token_hash(access_token))
    ).first()
    if row is None or row.revoked_at is not None or row.access_expires_at <= now:
        return None
    return row
