"""Account use cases: who am I, signing in (with lockout), and adding logins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.direct_sql import DirectStatement
from app.domain_errors import Conflict, NotFound, ValidationFailed
from app.notifications import notify
from auth.actor import Actor
from auth.models import Person, ProviderMembership, Representation, User, UserRole
from auth.passwords import hash_password, verify_password
from auth.roles import Role
from budgets.providers.models import ProviderOrganisation

MIN_PASSWORD_LENGTH = 10


# Built once and run on the cursor (app/direct_sql.py): the profile is the app's most
# frequent read, and it is plain columns.
_ME = DirectStatement(
    select(
        User.id,
        User.email,
        User.display_name,
        User.person_id,
        User.commissioner_id,
        Person.id.label("own_id"),
        Person.given_name,
        Person.family_name,
    )
    .outerjoin(Person, Person.id == User.person_id)
    .where(User.id == bindparam("user_id"))
)


def describe_me(session: Session, *, actor: Actor) -> dict[str, Any]:
    """The signed-in user, their roles and scopes, and the people they can act for.

    The actor already knows whom the user represents and which organisations they belong
    to, so those are looked up only when there are some: a person reads one row.
    """
    if actor.user_id is None:
        raise NotFound("A client acting for itself has no user profile.")
    user = _ME.first(session, {"user_id": actor.user_id})
    if user is None:
        raise NotFound()
    acts_for: list[dict[str, Any]] = []
    if user.own_id is not None:
        acts_for.append(
            {
                "id": user.own_id,
                "given_name": user.given_name,
                "family_name": user.family_name,
                "relationship": "self",
            }
        )
    if actor.represented_person_ids:
        represented = session.execute(
            select(Person, Representation.relationship_to_person)
            .join(Representation, Representation.person_id == Person.id)
            .where(Representation.representative_id == user.id, Representation.ended_at.is_(None))
            .order_by(Person.family_name, Person.given_name)
        ).all()
        acts_for += [{**_person_summary(p), "relationship": rel} for p, rel in represented]
    memberships = (
        session.execute(
            select(
                ProviderMembership.organisation_id,
                ProviderOrganisation.name,
                ProviderMembership.membership_role,
            )
            .join(
                ProviderOrganisation,
                ProviderOrganisation.id == ProviderMembership.organisation_id,
            )
            .where(ProviderMembership.user_id == user.id)
        ).all()
        if actor.organisation_ids
        else []
    )
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "roles": sorted(actor.roles),
        "scopes": sorted(actor.scopes),
        "person_id": user.person_id,
        "acts_for": acts_for,
        "organisations": [
            {"organisation_id": org_id, "name": name, "membership_role": role}
            for org_id, name, role in memberships
        ],
        "commissioner_id": user.commissioner_id,
    }


def _person_summary(person: Person) -> dict[str, Any]:
    return {"id": person.id, "given_name": person.given_name, "family_name": person.family_name}


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    return session.scalars(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).first()


def check_password_strength(password: str, *, field: str = "password") -> None:
    """422 unless the password is long enough to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            {field: [f"Use at least {MIN_PASSWORD_LENGTH} characters."]},
            "The password is too short.",
        )


def add_user_with_password(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    roles: Iterable[Role | str],
    commissioner_id: str | None = None,
    person_id: str | None = None,
) -> User:
    """Add a login with an argon2id-hashed password (flush only: the caller commits).

    Other packages reuse this (provider sign-up, invitations, the create-admin command).
    """
    check_password_strength(password)
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        commissioner_id=commissioner_id,
        person_id=person_id,
    )
    for role in dict.fromkeys(str(r) for r in roles):
        user.role_grants.append(UserRole(role=str(Role(role))))
    session.add(user)
    session.flush()
    return user


def authenticate_login(
    session: Session,
    *,
    email: str,
    password: str,
    max_failures: int,
    lockout_seconds: int,
    now: datetime | None = None,
) -> User | None:
    """The user if email and password match and the account may sign in; else None.

    Every failure looks the same to the caller (unknown email, wrong password, locked or
    disabled account) and costs one argon2 verification. `max_failures` wrong passwords in
    a row lock the account for `lockout_seconds`. The attempt is committed.
    """
    now = now or utcnow()
    user = find_user_by_email(session, email)
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None
    locked = user.locked_until is not None and user.locked_until > now
    if password_ok and user.is_active and not locked:
        user.failed_login_count = 0
        user.locked_until = None
        session.commit()
        return user
    if not locked and not password_ok:
        user.failed_login_count = (user.failed_login_count or 0) + 1
        if user.failed_login_count >= max_failures:
            user.locked_until = now + timedelta(seconds=lockout_seconds)
            user.failed_login_count = 0
            notify(
                session,
                user_ids=[user.id],
                kind="account-locked",
                title="Sign-in paused after several wrong passwords",
                body="If this was not you, reset your password.",
                record_type="user",
                record_id=user.id,
            )
    session.commit()
    return None
