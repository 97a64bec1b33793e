"""Onboarding use cases. Links carry a random token; only its SHA-256 is stored.

Invitations are single-use and expire (INVITATION_LIFETIME_SECONDS); password reset links
likewise (PASSWORD_RESET_LIFETIME_SECONDS). Asking for a reset never reveals whether the
email has an account. A completed reset signs the user out everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Conflict, NotFound, RuleViolation, ValidationFailed
from auth.access import require_person_access, require_role
from auth.actor import Actor
from auth.models import (
    Commissioner,
    Invitation,
    OAuthToken,
    PasswordReset,
    ProviderMembership,
    Representation,
    User,
)
from auth.passwords import hash_password
from auth.roles import Role
from auth.service import (
    add_user_with_password,
    check_password_strength,
    find_user_by_email,
    normalise_email,
)
from auth.tokens import generate_token, token_hash
from budgets.providers.models import ProviderOrganisation

INVITABLE_ROLES = (Role.PERSON, Role.REPRESENTATIVE, Role.BROKER)
RELATIONSHIPS = ("parent", "nominee", "deputy")
PROVIDER_KINDS = ("individual", "company", "charity", "nhs_trust")


@dataclass(frozen=True)
class IssuedLink:
    """A record and the plaintext token for its link (the only time it exists)."""

    record_id: str
    token: str
    email: str


def create_admin(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    commissioner_name: str,
    commissioner_kind: str = "icb",
    ods_code: str | None = None,
) -> User:
    """Create a commissioner admin (the first one comes from the CLI), and its commissioner."""
    commissioner = session.scalars(
        select(Commissioner).where(
            Commissioner.ods_code == ods_code
            if ods_code
            else Commissioner.name == commissioner_name
        )
    ).first()
    if commissioner is None:
        commissioner = Commissioner(
            name=commissioner_name, kind=commissioner_kind, ods_code=ods_code
        )
        session.add(commissioner)
        session.flush()
    user = add_user_with_password(
        session,
        email=email,
        display_name=display_name,
        password=password,
        roles=[Role.ADMIN],
        commissioner_id=commissioner.id,
    )
    record_audit(
        session, actor=None, action="account.admin-created", record_type="user", record_id=user.id
    )
    session.commit()
    return user


def invite_user(
    session: Session,
    *,
    actor: Actor,
    email: str,
    display_name: str,
    role: str,
    person_id: str | None,
    relationship: str | None,
    lifetime_seconds: int,
) -> IssuedLink:
    """An admin invites a person, representative or broker; returns the single-use link token."""
    require_role(actor, Role.ADMIN)
    if role not in {str(r) for r in INVITABLE_ROLES}:
        raise ValidationFailed({"role": ["Invite a person, representative or broker."]})
    if role in (Role.PERSON, Role.REPRESENTATIVE):
        if not person_id:
            raise ValidationFailed({"person_id": ["Name the person this account is for."]})
        require_person_access(session, actor, person_id)
    else:
        person_id = None
    if role == Role.REPRESENTATIVE and relationship not in RELATIONSHIPS:
        raise ValidationFailed({"relationship": [f"One of: {', '.join(RELATIONSHIPS)}."]})
    if (
        role == Role.PERSON
        and session.scalars(select(User.id).where(User.person_id == person_id)).first()
    ):
        raise Conflict("This person already has an account.")
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.")
    token = generate_token()
    invitation = Invitation(
        token_hash=token_hash(token),
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        invited_by_id=actor.user_id,
        commissioner_id=actor.commissioner_id,
        person_id=person_id,
        relationship_to_person=relationship if role == Role.REPRESENTATIVE else None,
        expires_at=utcnow() + timedelta(seconds=lifetime_seconds),
    )
    session.add(invitation)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="invitation.created",
        record_type="invitation",
        record_id=invitation.id,
        subject_person_id=person_id,
        details={"role": role},
    )
    session.commit()
    return IssuedLink(record_id=invitation.id, token=token, email=invitation.email)


def find_open_invitation(session: Session, *, token: str) -> Invitation:
    """The invitation a link points at, if it can still be accepted."""
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).first()
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise RuleViolation("invitation-used", "This invitation has already been used.")
    if invitation.expires_at <= utcnow():
        raise RuleViolation("invitation-expired", "This invitation has expired. Ask for a new one.")
    return invitation


def accept_invitation(session: Session, *, token: str, password: str) -> User:
    """Open the invited account with a password; the link then stops working."""
    invitation = find_open_invitation(session, token=token)
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise RuleViolation("invitation-used", "This invitation has already been used.")
    user = add_user_with_password(
        session,
        email=invitation.email,
        display_name=invitation.display_name,
        password=password,
        roles=[invitation.role],
        commissioner_id=invitation.commissioner_id if invitation.role == Role.BROKER else None,
        person_id=invitation.person_id if invitation.role == Role.PERSON else None,
    )
    if invitation.role == Role.REPRESENTATIVE and invitation.person_id:
        session.add(
            Representation(
                representative_id=user.id,
                person_id=invitation.person_id,
                relationship_to_person=invitation.relationship_to_person or "nominee",
            )
        )
    invitation.accepted_user_id = user.id
    record_audit(
        session,
        actor=Actor(user_id=user.id, client_id=None),
        action="invitation.accepted",
        record_type="invitation",
        record_id=invitation.id,
        subject_person_id=invitation.person_id,
        details={"role": invitation.role},
    )
    session.commit()
    return user


def sign_up_provider(
    session: Session,
    *,
    organisation_name: str,
    organisation_kind: str,
    email: str,
    display_name: str,
    password: str,
) -> tuple[User, ProviderOrganisation]:
    """A provider registers itself and its owner's login; it stays unverified until an admin
    verifies it."""
    if organisation_kind not in PROVIDER_KINDS:
        raise ValidationFailed({"organisation_kind": [f"One of: {', '.join(PROVIDER_KINDS)}."]})
    user = add_user_with_password(
        session,
        email=email,
        display_name=display_name,
        password=password,
        roles=[Role.PROVIDER_STAFF],
    )
    organisation = ProviderOrganisation(
        name=organisation_name.strip(), kind=organisation_kind, status="unverified"
    )
    session.add(organisation)
    session.flush()
    session.add(
        ProviderMembership(
            user_id=user.id, organisation_id=organisation.id, membership_role="owner"
        )
    )
    record_audit(
        session,
        actor=Actor(user_id=user.id, client_id=None),
        action="provider.signed-up",
        record_type="provider_organisation",
        record_id=organisation.id,
    )
    session.commit()
    return user, organisation


def request_password_reset(
    session: Session, *, email: str, lifetime_seconds: int
) -> IssuedLink | None:
    """Issue a reset link if the email has an active account; the caller says the same
    thing either way."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    token = generate_token()
    reset = PasswordReset(
        token_hash=token_hash(token),
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=lifetime_seconds),
    )
    session.add(reset)
    session.flush()
    record_audit(
        session,
        actor=Actor(user_id=user.id, client_id=None),
        action="password-reset.requested",
        record_type="user",
        record_id=user.id,
    )
    session.commit()
    return IssuedLink(record_id=reset.id, token=token, email=user.email)


def find_open_reset(session: Session, *, token: str) -> PasswordReset:
    """The reset a link points at, if it is unused and unexpired."""
    reset = session.scalars(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    ).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise NotFound("This reset link is not valid or has expired. Ask for a new one.")
    return reset


def reset_password(session: Session, *, token: str, password: str) -> User:
    """Set a new password from a reset link, unlock the account and sign out everywhere."""
    reset = find_open_reset(session, token=token)
    check_password_strength(password)
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise NotFound("This reset link is not valid or has expired. Ask for a new one.")
    now = utcnow()
    reset.used_at = now
    user.password_hash = hash_password(password)
    user.failed_login_count = 0
    user.locked_until = None
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.user_id == user.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    record_audit(
        session,
        actor=Actor(user_id=user.id, client_id=None),
        action="password-reset.completed",
        record_type="user",
        record_id=user.id,
    )
    session.commit()
    return user


def describe_invitation(session: Session, *, invitation_id: str) -> dict[str, object]:
    """An invitation's public facts (never its token)."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound()
    return {
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "person_id": invitation.person_id,
        "expires_at": invitation.expires_at,
    }
