"""Accounts: commissioners, people, users and their roles, representatives, provider
membership, OAuth clients and issued tokens.

A `Person` is the data subject who holds a budget; a `User` is a login. A person may have
no login of their own (a child whose parent acts for them), and a user may act for
several people as their representative.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, list_to_scope, scope_to_list
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, utcnow
from auth.passwords import verify_password

LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")


class Commissioner(IdMixin, TimestampMixin, Base):
    """An integrated care board or council that funds budgets and employs admins."""

    __tablename__ = "commissioners"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # icb | council
    ods_code: Mapped[str | None] = mapped_column(String(16), unique=True)


class Person(IdMixin, TimestampMixin, Base):
    """Someone who holds (or may hold) a personal health budget."""

    __tablename__ = "people"

    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None]
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    commissioner_id: Mapped[str] = mapped_column(ForeignKey("commissioners.id"), index=True)
    # The named support broker: the person is on this broker's caseload.
    broker_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", use_alter=True), index=True
    )

    commissioner: Mapped[Commissioner] = relationship()

    @property
    def postcode_district(self) -> str | None:
        """The outward code of the postcode (e.g. "LS6" of "LS6 2AB")."""
        if not self.postcode:
            return None
        return self.postcode.strip().upper().split(" ")[0]


class User(IdMixin, TimestampMixin, Base):
    """A login: a person, representative, broker, provider staff member or admin."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    # The person record this user is, when they hold a budget themselves.
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"), unique=True)
    # The commissioner an admin or broker works for.
    commissioner_id: Mapped[str | None] = mapped_column(ForeignKey("commissioners.id"))

    role_grants: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(grant.role for grant in self.role_grants)


class UserRole(Base):
    """One role held by a user."""

    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_grants")


class Representation(IdMixin, TimestampMixin, Base):
    """A representative (parent, nominee, deputy) acting for a named person."""

    __tablename__ = "representations"
    __table_args__ = (UniqueConstraint("representative_id", "person_id"),)

    representative_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    relationship_to_person: Mapped[str] = mapped_column(String(32))  # parent | nominee | deputy
    ended_at: Mapped[datetime | None]


class ProviderMembership(IdMixin, TimestampMixin, Base):
    """A user who works for a provider organisation, as its owner or as staff."""

    __tablename__ = "provider_memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("provider_organisations.id"), index=True
    )
    membership_role: Mapped[str] = mapped_column(String(16))  # owner | staff


class OAuthClient(ClientMixin, TimestampMixin, Base):
    """An application allowed to ask for tokens: the mobile app, the docs page, a back office.

    The methods are what Authlib asks of a client. Public clients (the app, the docs page)
    authenticate with `none` and must use PKCE; confidential ones (provider back offices)
    with their secret, stored as an argon2 hash.
    """

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(255))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_scopes: Mapped[str] = mapped_column(String(1000), default="")
    # Set for a provider's back-office client: everything it does is limited to this org.
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("provider_organisations.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Never guessed: every authorization request names its redirect URI.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = scope_to_list(self.allowed_scopes) or []
        if not scope:
            return str(list_to_scope(allowed))
        return str(list_to_scope([s for s in scope_to_list(scope) or [] if s in allowed]))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match; for a loopback IP only the port may vary (RFC 8252 section 7.3)."""
        if redirect_uri in (self.redirect_uris or []):
            return True
        return any(_same_loopback_uri(redirect_uri, uri) for uri in self.redirect_uris or [])

    def check_client_secret(self, client_secret: str) -> bool:
        if self.is_public or not self.client_secret_hash:
            return False
        return verify_password(self.client_secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in (self.grant_types or [])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (self.grant_types or [])


def _same_loopback_uri(presented: str, registered: str) -> bool:

    try:
        a, b = urlsplit(presented), urlsplit(registered)
        a_port = a.port
    except ValueError:
        return False
    if a.scheme != "http" or b.scheme != "http" or b.netloc not in LOOPBACK_HOSTS:
        return False
    host = a.netloc.rsplit(":", 1)[0] if a_port is not None else a.netloc
    return (host, a.path, a.query, a.fragment) == (b.netloc, b.path, b.query, b.fragment)


class OAuthToken(IdMixin, Base):
    """An issued access token (and refresh token), stored only as SHA-256 hashes.

    Refresh tokens rotate: each use marks the row `refresh_used_at` and issues a child in
    the same `family_id`. A second use of a used refresh token revokes the whole family.
    """

    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_user_id_revoked_at", "user_id", "revoked_at"),)

    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    scope: Mapped[str] = mapped_column(String(1000))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]  # idle limit for this refresh token
    family_expires_at: Mapped[datetime | None]  # absolute limit for the family
    refresh_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope


class OAuthAuthorizationCode(IdMixin, Base):
    """A single-use authorization code, stored as a SHA-256 hash, bound to a PKCE challenge.

    Redeeming it records the token family it issued, so a replayed code revokes that family.
    """

    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(1000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    token_family_id: Mapped[str | None] = mapped_column(String(36))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class Invitation(IdMixin, TimestampMixin, Base):
    """An admin's single-use, expiring invitation to open an account with a role.

    Only the SHA-256 of the link's token is stored. A person invitation names the person
    record the account will hold; a representative invitation the person they act for.
    """

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    invited_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    commissioner_id: Mapped[str | None] = mapped_column(ForeignKey("commissioners.id"))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    relationship_to_person: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))


class PasswordReset(IdMixin, Base):
    """A single-use, expiring password reset link (its token stored as SHA-256)."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
