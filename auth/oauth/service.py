"""Authorization codes and token life cycle: issue, redeem once, rotate, detect reuse, revoke.

Plain functions over the session (no Flask). Claims use a conditional UPDATE
(`... WHERE used_at IS NULL`), so two concurrent redemptions of one code or one refresh
token cannot both win: the loser sees zero rows and is treated as a replay. A replay
revokes the whole token family it belongs to (RFC 9700 section 4.14), and that revocation
is committed even though the request itself fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.audit import record_audit
from app.db import utcnow
from auth.actor import Actor
from auth.models import OAuthAuthorizationCode, OAuthClient, OAuthToken, User
from auth.roles import scopes_for_roles
from auth.tokens import token_hash


def grantable_scope(*, requested: str, user: User) -> str:
    """The requested scopes cut down to what the user's roles may be granted."""
    allowed = scopes_for_roles(user.roles)
    return " ".join(s for s in requested.split() if s in allowed)


def save_authorization_code(
    session: Session,
    *,
    code: str,
    client_id: str,
    user: User,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    lifetime_seconds: int,
) -> OAuthAuthorizationCode:
    """Store a new code (hashed) for the user's consent, and commit it."""
    now = utcnow()
    row = OAuthAuthorizationCode(
        code_hash=token_hash(code),
        client_id=client_id,
        user_id=user.id,
        redirect_uri=redirect_uri,
        scope=grantable_scope(requested=scope, user=user),
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        issued_at=now,
        expires_at=now + timedelta(seconds=lifetime_seconds),
    )
    session.add(row)
    record_audit(
        session,
        actor=Actor(user_id=user.id, client_id=client_id),
        action="oauth.consent",
        record_type="oauth_client",
        record_id=client_id,
        details={"scope": row.scope},
    )
    session.commit()
    return row


def claim_authorization_code(
    session: Session, *, code: str, client_id: str, now: datetime | None = None
) -> OAuthAuthorizationCode | None:
    """Mark the code used (not committed) and return it, or None if unusable.

    A code presented again revokes the tokens it issued (committed at once).
    """
    now = now or utcnow()
    row = session.scalars(
        select(OAuthAuthorizationCode).where(
            OAuthAuthorizationCode.code_hash == token_hash(code),
            OAuthAuthorizationCode.client_id == client_id,
        )
    ).first()
    if row is None:
        return None
    if row.used_at is not None:
        _revoke_after_replay(session, family_id=row.token_family_id, reason="code-replayed")
        return None
    if row.expires_at <= now:
        return None
    if not _claim_once(session, OAuthAuthorizationCode.used_at, row_id=row.id, now=now):
        session.refresh(row)
        _revoke_after_replay(session, family_id=row.token_family_id, reason="code-replayed")
        return None
    row.used_at = now
    return row


def claim_refresh_token(
    session: Session, *, refresh_token: str, client_id: str, now: datetime | None = None
) -> OAuthToken | None:
    """Mark the refresh token used (not committed) and return its row, or None if unusable.

    A used refresh token presented again revokes its whole family (committed at once).
    """
    now = now or utcnow()
    row = session.scalars(
        select(OAuthToken).where(OAuthToken.refresh_token_hash == token_hash(refresh_token))
    ).first()
    if row is None or row.client_id != client_id or row.revoked_at is not None:
        return None
    if row.refresh_used_at is not None:
        _revoke_after_replay(session, family_id=row.family_id, reason="refresh-token-replayed")
        return None
    if _refresh_expired(row, now):
        return None
    if not _claim_once(session, OAuthToken.refresh_used_at, row_id=row.id, now=now):
        _revoke_after_replay(session, family_id=row.family_id, reason="refresh-token-replayed")
        return None
    row.refresh_used_at = now
    return row


def _claim_once(
    session: Session, used_at: InstrumentedAttribute[datetime | None], *, row_id: str, now: datetime
) -> bool:
    """Set `used_at` only if still empty; False when someone else got there first."""
    model = used_at.class_
    result = session.execute(
        update(model)
        .where(model.id == row_id, used_at.is_(None))
        .values({used_at.key: now})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _refresh_expired(row: OAuthToken, now: datetime) -> bool:
    if row.refresh_expires_at is None or row.refresh_expires_at <= now:
        return True
    return row.family_expires_at is not None and row.family_expires_at <= now


def revoke_family(session: Session, *, family_id: str, now: datetime | None = None) -> int:
    """Revoke every live token of a family (no commit); returns how many."""
    result = session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(result.rowcount)  # type: ignore[attr-defined]


def _revoke_after_replay(session: Session, *, family_id: str | None, reason: str) -> None:
    session.rollback()
    if family_id is not None:
        revoked = revoke_family(session, family_id=family_id)
        record_audit(
            session,
            actor=None,
            action="oauth.family-revoked",
            record_type="oauth_token_family",
            record_id=family_id,
            details={"reason": reason, "tokens_revoked": revoked},
        )
    session.commit()


def find_token_for_revocation(
    session: Session, *, token: str, token_type_hint: str | None
) -> OAuthToken | None:
    """The token row a presented access or refresh token belongs to, if any."""
    hashed = token_hash(token)
    if token_type_hint == "access_token":  # noqa: S105 (a hint name, not a secret)
        condition = OAuthToken.access_token_hash == hashed
    elif token_type_hint == "refresh_token":  # noqa: S105
        condition = OAuthToken.refresh_token_hash == hashed
    else:
        condition = or_(
            OAuthToken.access_token_hash == hashed, OAuthToken.refresh_token_hash == hashed
        )
    return session.scalars(select(OAuthToken).where(condition)).first()


def revoke_token(session: Session, *, token: OAuthToken) -> None:
    """Sign out: revoke the token and everything rotated from the same sign-in; commit."""
    revoked = revoke_family(session, family_id=token.family_id)
    record_audit(
        session,
        actor=Actor(user_id=token.user_id, client_id=token.client_id),
        action="oauth.revoked",
        record_type="oauth_token_family",
        record_id=token.family_id,
        details={"tokens_revoked": revoked},
    )
    session.commit()


def active_client(session: Session, client_id: str) -> OAuthClient | None:
    """The client, if it exists and is enabled."""
    client = session.get(OAuthClient, client_id)
    return client if client is not None and client.is_active else None
