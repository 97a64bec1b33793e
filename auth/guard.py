"""`require_auth`: the bearer-token check on every protected endpoint.

No token or a bad one is 401 with `WWW-Authenticate: Bearer`; a token without the scope
is 403 `insufficient-scope`; a role that never has the function is 403 `forbidden`. The
resulting `Actor` is put on `g.actor` for the view and passed to services explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import request
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.db import get_session, utcnow
from app.direct_sql import DirectStatement
from app.domain_errors import Forbidden, InsufficientScope, Unauthorized
from app.openapi import documents_problems
from app.request_locals import request_globals
from auth.actor import Actor
from auth.models import (
    OAuthClient,
    OAuthToken,
    ProviderMembership,
    Representation,
    User,
    UserRole,
)
from auth.roles import Role, Scope
from auth.tokens import find_live_access_token, token_hash

F = TypeVar("F", bound=Callable[..., Any])
REALM = 'Bearer realm="choice-and-control"'


def _unauthorized(error: str | None = None, description: str | None = None) -> Unauthorized:
    header = REALM if error is None else f'{REALM}, error="{error}"'
    return Unauthorized(description, headers={"WWW-Authenticate": header})


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def actor_for_token(session: Session, token: OAuthToken) -> Actor | None:
    """The Actor a live token speaks for, or None if its user or client is disabled."""
    scopes = frozenset(token.scope.split())
    if token.user_id is None:
        client = session.get(OAuthClient, token.client_id)
        if client is None or not client.is_active or client.organisation_id is None:
            return None
        return Actor(
            user_id=None,
            client_id=client.client_id,
            scopes=scopes,
            organisation_ids=frozenset({client.organisation_id}),
        )
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    represented = frozenset(
        session.scalars(
            select(Representation.person_id).where(
                Representation.representative_id == user.id, Representation.ended_at.is_(None)
            )
        )
    )
    organisations = frozenset(
        session.scalars(
            select(ProviderMembership.organisation_id).where(ProviderMembership.user_id == user.id)
        )
    )
    return Actor(
        user_id=user.id,
        client_id=token.client_id,
        roles=user.roles,
        scopes=scopes,
        person_id=user.person_id,
        represented_person_ids=represented,
        organisation_ids=organisations,
        commissioner_id=user.commissioner_id,
    )


def _joined(column: Any, *where: Any) -> Any:
    """The values of `column` in the rows matching `where`, joined by spaces (or NULL)."""
    return select(func.aggregate_strings(column, " ")).where(*where).scalar_subquery()


# Built once: constructing a select with three sub-selects costs more Python than the
# database takes to answer it; and run on the cursor directly, as it precedes every
# authenticated request (app/direct_sql.py).
_ACTOR_BY_TOKEN_HASH = DirectStatement(
    select(
        OAuthToken.client_id,
        OAuthToken.user_id,
        OAuthToken.scope,
        OAuthToken.revoked_at,
        OAuthToken.access_expires_at,
        User.is_active,
        User.person_id,
        User.commissioner_id,
        _joined(UserRole.role, UserRole.user_id == User.id),
        _joined(
            Representation.person_id,
            Representation.representative_id == User.id,
            Representation.ended_at.is_(None),
        ),
        _joined(ProviderMembership.organisation_id, ProviderMembership.user_id == User.id),
    )
    .outerjoin(User, User.id == OAuthToken.user_id)
    .where(OAuthToken.access_token_hash == bindparam("token_hash"))
    .limit(1)
)


def actor_for_access_token(
    session: Session, presented: str, *, now: datetime | None = None
) -> Actor | None:
    """The Actor behind a live access token, read in ONE query: the token, its user, the
    user's roles, the people they represent and their provider organisations.

    Same answers as `find_live_access_token` + `actor_for_token` (which a client token
    without a user still goes through), without five round trips on every request.
    """
    now = now or utcnow()
    row = _ACTOR_BY_TOKEN_HASH.first(session, {"token_hash": token_hash(presented)})
    if row is None or row.revoked_at is not None or row.access_expires_at <= now:
        return None
    if row.user_id is None:
        token = find_live_access_token(session, presented, now=now)
        return actor_for_token(session, token) if token is not None else None
    if not row.is_active:
        return None
    roles, represented, organisations = (frozenset((joined or "").split()) for joined in row[8:11])
    return Actor(
        user_id=row.user_id,
        client_id=row.client_id,
        roles=roles,
        scopes=frozenset(row.scope.split()),
        person_id=row.person_id,
        represented_person_ids=represented,
        organisation_ids=organisations,
        commissioner_id=row.commissioner_id,
    )


def authenticate() -> Actor:
    """The Actor behind this request's bearer token (raises 401 when there is none)."""
    globals_ = request_globals()
    cached = globals_.get("actor")
    if cached is not None:
        return cast(Actor, cached)
    presented = _bearer_token()
    if presented is None:
        raise _unauthorized(description="Sign in and send the access token as a Bearer token.")
    actor = actor_for_access_token(get_session(), presented)
    if actor is None:
        raise _unauthorized("invalid_token", "The access token is invalid, expired or revoked.")
    globals_.actor = actor
    return actor


def require_auth(
    *scopes: Scope | str, roles: Iterable[Role | str] | None = None
) -> Callable[[F], F]:
    """Require a bearer token with every one of `scopes` and, if given, one of `roles`."""
    needed = [str(s) for s in scopes]
    allowed_roles = [str(r) for r in roles] if roles is not None else None

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = authenticate()
            missing = [s for s in needed if s not in actor.scopes]
            if missing:
                raise InsufficientScope(
                    f"This needs the scope(s): {' '.join(missing)}.",
                    headers={
                        "WWW-Authenticate": (
                            f'{REALM}, error="insufficient_scope", scope="{" ".join(needed)}"'
                        )
                    },
                )
            if (
                allowed_roles is not None
                and not actor.has_role(*allowed_roles)
                and not (actor.is_back_office_client and "back_office" in allowed_roles)
            ):
                raise Forbidden("Your role cannot do this.")
            return view(*args, **kwargs)

        doc = wrapper.__dict__.setdefault("_apidoc", {})
        doc.setdefault("manual_doc", {})["security"] = [{"oauth2": needed}]
        documents_problems(401, 403)(wrapper)
        return cast(F, wrapper)

    return decorator
