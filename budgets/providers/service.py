"""Provider organisation use cases: registration and self sign-up, details, membership,
and the commissioner's verify / reject / suspend decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from app.notifications import notify
from app.pagination import Page, PageRequest, keyset_page
from app.versioning import check_if_match
from auth.access import require_role
from auth.actor import Actor
from auth.models import ProviderMembership, User, UserRole
from auth.passwords import hash_password
from auth.roles import Role
from budgets.providers.areas import parse_area
from budgets.providers.models import OrganisationStatus, ProviderArea, ProviderOrganisation

# Changing these on a verified organisation needs a commissioner to verify it again.
_REVERIFY_FIELDS = ("kind", "delivers_regulated_care", "cqc_registration_number")

# Called with (session, organisation, actor) when an organisation is suspended, so the
# bookings domain can tell people with open bookings without this module importing it.
suspension_listeners: list[Callable[[Session, ProviderOrganisation, Actor], None]] = []


def _member_ids(session: Session, organisation_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ProviderMembership.user_id).where(
                ProviderMembership.organisation_id == organisation_id
            )
        )
    )


def _is_owner(session: Session, actor: Actor, organisation_id: str) -> bool:
    if actor.user_id is None:
        return False
    role = session.scalar(
        select(ProviderMembership.membership_role).where(
            ProviderMembership.organisation_id == organisation_id,
            ProviderMembership.user_id == actor.user_id,
        )
    )
    return role == "owner"


def _set_areas(organisation: ProviderOrganisation, codes: list[str]) -> None:
    wanted = {parse_area(code)[1]: parse_area(code)[0] for code in codes}
    organisation.areas = [ProviderArea(code=code, kind=str(kind)) for code, kind in wanted.items()]


def _new_organisation(data: dict[str, Any]) -> ProviderOrganisation:
    fields = {k: v for k, v in data.items() if k != "areas_served"}
    organisation = ProviderOrganisation(**fields, status=OrganisationStatus.UNVERIFIED)
    _set_areas(organisation, data["areas_served"])
    if not organisation.delivers_regulated_care:
        organisation.delivers_regulated_care = False
    return organisation


def _add_membership(session: Session, user: User, organisation_id: str, role: str) -> None:
    if Role.PROVIDER_STAFF not in user.roles:
        user.role_grants.append(UserRole(role=str(Role.PROVIDER_STAFF)))
    session.add(
        ProviderMembership(user_id=user.id, organisation_id=organisation_id, membership_role=role)
    )


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()


def sign_up_provider(
    session: Session, *, organisation: dict[str, Any], owner: dict[str, Any]
) -> tuple[ProviderOrganisation, User]:
    """Register a new provider organisation and create the account of its first owner."""
    email = owner["email"].lower()
    if _user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists; sign in and register there.")
    user = User(
        email=email,
        display_name=owner["display_name"],
        password_hash=hash_password(owner["password"]),
    )
    session.add(user)
    record = _new_organisation(organisation)
    session.add(record)
    session.flush()
    _add_membership(session, user, record.id, "owner")
    actor = Actor(user_id=user.id, client_id=None)
    record_audit(
        session,
        actor=actor,
        action="provider.sign_up",
        record_type="provider_organisation",
        record_id=record.id,
        details={"kind": record.kind, "owner_user_id": user.id},
    )
    session.commit()
    return record, user


def register_organisation(
    session: Session, *, actor: Actor, data: dict[str, Any]
) -> ProviderOrganisation:
    """Register another organisation from a signed-in provider account, as its owner."""
    require_role(actor, Role.PROVIDER_STAFF)
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise Forbidden("Only a signed-in provider account can register an organisation.")
    record = _new_organisation(data)
    session.add(record)
    session.flush()
    _add_membership(session, user, record.id, "owner")
    record_audit(
        session,
        actor=actor,
        action="provider.register",
        record_type="provider_organisation",
        record_id=record.id,
        details={"kind": record.kind},
    )
    session.commit()
    return record


def visible_organisations_clause(actor: Actor) -> ColumnElement[bool]:
    """Verified organisations for everyone; staff also see their own; admins see all."""
    if actor.has_role(Role.ADMIN):
        return true()
    own = sorted(actor.organisation_ids)
    return or_(
        ProviderOrganisation.status == OrganisationStatus.VERIFIED,
        ProviderOrganisation.id.in_(own),
    )


def get_organisation(
    session: Session, *, actor: Actor, organisation_id: str
) -> ProviderOrganisation:
    """One organisation, if the caller may see it (404 otherwise)."""
    record = session.scalars(
        select(ProviderOrganisation).where(
            ProviderOrganisation.id == organisation_id, visible_organisations_clause(actor)
        )
    ).first()
    if record is None:
        raise NotFound("No such provider organisation.")
    return record


def list_organisations(
    session: Session, *, actor: Actor, page: PageRequest, status: str | None, mine: bool
) -> Page[ProviderOrganisation]:
    """Organisations the caller may see, oldest first, optionally by status or only theirs."""
    stmt = select(ProviderOrganisation).where(visible_organisations_clause(actor))
    if status:
        stmt = stmt.where(ProviderOrganisation.status == status)
    if mine:
        stmt = stmt.where(ProviderOrganisation.id.in_(sorted(actor.organisation_ids)))
    scope = f"organisations:{status or ''}:{int(mine)}"
    return keyset_page(session, stmt, keys=[ProviderOrganisation.id], page=page, scope=scope)


def _lock_organisation(session: Session, organisation_id: str) -> ProviderOrganisation:
    record = session.scalars(
        select(ProviderOrganisation)
        .where(ProviderOrganisation.id == organisation_id)
        .with_for_update()
    ).first()
    if record is None:
        raise NotFound("No such provider organisation.")
    return record


def update_organisation(
    session: Session,
    *,
    actor: Actor,
    organisation_id: str,
    if_match: list[str] | None,
    changes: dict[str, Any],
) -> ProviderOrganisation:
    """Change an organisation's details (owners only); some changes need verifying again."""
    if organisation_id not in actor.organisation_ids:
        raise NotFound("No such provider organisation.")
    record = _lock_organisation(session, organisation_id)
    check_if_match(if_match, record.id, record.version)
    if not _is_owner(session, actor, organisation_id):
        raise Forbidden("Only an owner of the organisation can change its details.")
    regulated = changes.get("delivers_regulated_care", record.delivers_regulated_care)
    cqc = changes.get("cqc_registration_number", record.cqc_registration_number)
    if regulated and not cqc:
        raise ValidationFailed(
            {"cqc_registration_number": ["Needed when the organisation delivers regulated care."]}
        )
    needs_reverify = record.status == OrganisationStatus.VERIFIED and any(
        field in changes and changes[field] != getattr(record, field) for field in _REVERIFY_FIELDS
    )
    for field, value in changes.items():
        if field == "areas_served":
            _set_areas(record, value)
        else:
            setattr(record, field, value)
    if needs_reverify:
        _set_status(record, OrganisationStatus.UNVERIFIED, actor, "Registration details changed.")
    record.version += 1
    record_audit(
        session,
        actor=actor,
        action="provider.update",
        record_type="provider_organisation",
        record_id=record.id,
        details={"fields": sorted(changes), "reverify": needs_reverify},
    )
    session.commit()
    return record


def _set_status(
    record: ProviderOrganisation, status: OrganisationStatus, actor: Actor, reason: str | None
) -> None:
    record.status = status
    record.status_reason = reason
    record.status_changed_at = utcnow()
    record.status_changed_by = actor.user_id


_DECISIONS: dict[str, tuple[OrganisationStatus, tuple[OrganisationStatus, ...], str]] = {
    "verify": (
        OrganisationStatus.VERIFIED,
        (OrganisationStatus.UNVERIFIED, OrganisationStatus.REJECTED, OrganisationStatus.SUSPENDED),
        "Your organisation is verified: you can publish offers and take bookings.",
    ),
    "reject": (
        OrganisationStatus.REJECTED,
        (OrganisationStatus.UNVERIFIED,),
        "Your provider registration was not accepted.",
    ),
    "suspend": (
        OrganisationStatus.SUSPENDED,
        (OrganisationStatus.VERIFIED,),
        "Your organisation is suspended: no new bookings can be made.",
    ),
}


def decide_organisation(
    session: Session, *, actor: Actor, organisation_id: str, decision: str, reason: str | None
) -> ProviderOrganisation:
    """Verify, reject (with a reason) or suspend (with a reason) a provider organisation."""
    require_role(actor, Role.ADMIN)
    target, allowed_from, message = _DECISIONS[decision]
    record = _lock_organisation(session, organisation_id)
    if record.status not in allowed_from:
        raise InvalidState(f"A {record.status} organisation cannot be given '{decision}'.")
    _set_status(record, target, actor, reason)
    record.version += 1
    record_audit(
        session,
        actor=actor,
        action=f"provider.{decision}",
        record_type="provider_organisation",
        record_id=record.id,
        details={"status": str(target)},
    )
    notify(
        session,
        user_ids=_member_ids(session, record.id),
        kind=f"provider.{decision}",
        title=message,
        body=reason or "",
        record_type="provider_organisation",
        record_id=record.id,
    )
    if target == OrganisationStatus.SUSPENDED:
        for listener in suspension_listeners:
            listener(session, record, actor)
    session.commit()
    return record


def list_members(
    session: Session, *, actor: Actor, organisation_id: str, page: PageRequest
) -> Page[Any]:
    """The people who work for the organisation (its own staff only)."""
    if organisation_id not in actor.organisation_ids:
        raise NotFound("No such provider organisation.")
    stmt = select(ProviderMembership).where(ProviderMembership.organisation_id == organisation_id)
    result = keyset_page(
        session, stmt, keys=[ProviderMembership.id], page=page, scope=f"members:{organisation_id}"
    )
    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_([m.user_id for m in result.items])))
    }
    items = [_member_view(m, users[m.user_id]) for m in result.items]
    return Page(items=items, next_cursor=result.next_cursor)


def _member_view(membership: ProviderMembership, user: User) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "membership_role": membership.membership_role,
        "created_at": membership.created_at,
    }


def add_member(
    session: Session, *, actor: Actor, organisation_id: str, email: str, membership_role: str
) -> dict[str, Any]:
    """Add an existing account to the organisation as staff or owner (owners only)."""
    if organisation_id not in actor.organisation_ids:
        raise NotFound("No such provider organisation.")
    if not _is_owner(session, actor, organisation_id):
        raise Forbidden("Only an owner can add people to the organisation.")
    user = _user_by_email(session, email)
    if user is None:
        raise NotFound("No account with this email; ask them to create one first.")
    already = session.scalar(
        select(ProviderMembership.id).where(
            ProviderMembership.organisation_id == organisation_id,
            ProviderMembership.user_id == user.id,
        )
    )
    if already:
        raise Conflict("This person already works for the organisation.")
    _add_membership(session, user, organisation_id, membership_role)
    record_audit(
        session,
        actor=actor,
        action="provider.member_add",
        record_type="provider_organisation",
        record_id=organisation_id,
        details={"user_id": user.id, "membership_role": membership_role},
    )
    notify(
        session,
        user_ids=[user.id],
        kind="provider.member_added",
        title="You were added to a provider organisation.",
        record_type="provider_organisation",
        record_id=organisation_id,
    )
    session.commit()
    membership = session.scalars(
        select(ProviderMembership).where(
            ProviderMembership.organisation_id == organisation_id,
            ProviderMembership.user_id == user.id,
        )
    ).one()
    return _member_view(membership, user)


def remove_member(session: Session, *, actor: Actor, organisation_id: str, user_id: str) -> None:
    """Remove someone from the organisation (owners only; the last owner stays)."""
    if organisation_id not in actor.organisation_ids:
        raise NotFound("No such provider organisation.")
    if not _is_owner(session, actor, organisation_id):
        raise Forbidden("Only an owner can remove people from the organisation.")
    membership = session.scalars(
        select(ProviderMembership).where(
            ProviderMembership.organisation_id == organisation_id,
            ProviderMembership.user_id == user_id,
        )
    ).first()
    if membership is None:
        raise NotFound("No such member.")
    owners = session.scalar(
        select(func.count()).where(
            ProviderMembership.organisation_id == organisation_id,
            ProviderMembership.membership_role == "owner",
        )
    )
    if membership.membership_role == "owner" and (owners or 0) <= 1:
        raise InvalidState("The last owner cannot be removed; add another owner first.")
    session.delete(membership)
    record_audit(
        session,
        actor=actor,
        action="provider.member_remove",
        record_type="provider_organisation",
        record_id=organisation_id,
        details={"user_id": user_id},
    )
    session.commit()
