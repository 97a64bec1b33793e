"""Back-office client use cases: create (the secret is shown once), list, revoke.

Only an owner of a verified provider organisation manages its clients. A client can hold
only back-office scopes and acts for that organisation alone. The secret is stored as an
argon2id hash; revoking a client also revokes every token it holds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Forbidden, NotFound, RuleViolation, ValidationFailed
from app.pagination import Page, PageRequest, keyset_page
from auth.access import require_organisation_access
from auth.actor import Actor
from auth.models import OAuthClient, OAuthToken, ProviderMembership
from auth.passwords import hash_password
from auth.roles import BACK_OFFICE_SCOPES
from budgets.providers.models import ProviderOrganisation

BACK_OFFICE_SCOPE_NAMES = sorted(str(s) for s in BACK_OFFICE_SCOPES)


@dataclass(frozen=True)
class NewClient:
    """A client just created, with its secret in plaintext (the only time it exists)."""

    client: OAuthClient
    client_secret: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.client, name)


def _require_owner(session: Session, actor: Actor, organisation_id: str) -> ProviderOrganisation:
    require_organisation_access(actor, organisation_id)
    organisation = session.get(ProviderOrganisation, organisation_id)
    if organisation is None:
        raise NotFound("No such record.")
    role = session.scalar(
        select(ProviderMembership.membership_role).where(
            ProviderMembership.organisation_id == organisation_id,
            ProviderMembership.user_id == actor.user_id,
        )
    )
    if role != "owner":
        raise Forbidden("Only an owner of the organisation manages its back-office clients.")
    return organisation


def create_client(
    session: Session, *, actor: Actor, organisation_id: str, name: str, scopes: list[str] | None
) -> NewClient:
    """Create a back-office client for the owner's organisation; the secret is returned once."""
    organisation = _require_owner(session, actor, organisation_id)
    if organisation.status != "verified":
        raise RuleViolation(
            "organisation-unverified",
            "Back-office access opens once a commissioner has verified the organisation.",
        )
    wanted = sorted(set(scopes)) if scopes else BACK_OFFICE_SCOPE_NAMES
    if not set(wanted) <= set(BACK_OFFICE_SCOPE_NAMES):
        raise ValidationFailed({"scopes": [f"Choose from: {', '.join(BACK_OFFICE_SCOPE_NAMES)}."]})
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=f"bo-{secrets.token_hex(12)}",
        name=name.strip(),
        is_public=False,
        client_secret_hash=hash_password(secret),
        redirect_uris=[],
        grant_types=["client_credentials"],
        allowed_scopes=" ".join(wanted),
        organisation_id=organisation.id,
        is_active=True,
    )
    session.add(client)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="back-office-client.created",
        record_type="oauth_client",
        record_id=client.client_id,
        details={"organisation_id": organisation.id, "scopes": wanted},
    )
    session.commit()
    return NewClient(client=client, client_secret=secret)


def list_clients(
    session: Session, *, actor: Actor, organisation_id: str, page: PageRequest
) -> Page[OAuthClient]:
    """The organisation's back-office clients (owners only)."""
    _require_owner(session, actor, organisation_id)
    result = keyset_page(
        session,
        select(OAuthClient).where(OAuthClient.organisation_id == organisation_id),
        keys=[OAuthClient.client_id],
        page=page,
        scope=f"back-office-clients:{organisation_id}",
    )
    session.commit()
    return result


def revoke_client(session: Session, *, actor: Actor, client_id: str) -> OAuthClient:
    """Switch a back-office client off and revoke every token it holds."""
    client = session.get(OAuthClient, client_id)
    if client is None or client.organisation_id is None:
        raise NotFound("No such record.")
    _require_owner(session, actor, client.organisation_id)
    client.is_active = False
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.client_id == client.client_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    record_audit(
        session,
        actor=actor,
        action="back-office-client.revoked",
        record_type="oauth_client",
        record_id=client.client_id,
        details={"organisation_id": client.organisation_id},
    )
    session.commit()
    return client
