"""Demo accounts: one user per role, the people they hold or act for, and the OAuth clients.

Idempotent: each record is looked up by a natural key first, so seeding twice changes
nothing. Passwords are for the demo only and are printed by `make run`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.models import (
    Commissioner,
    OAuthClient,
    Person,
    ProviderMembership,
    Representation,
    User,
    UserRole,
)
from auth.passwords import hash_password
from auth.roles import BACK_OFFICE_SCOPES, ROLE_SCOPES, Role
from budgets.providers.models import ProviderOrganisation

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (demo data only)
MOBILE_APP_CLIENT_ID = "choice-and-control-app"
MOBILE_APP_REDIRECT_URIS = [
    "uk.nhs.choiceandcontrol.app:/oauth/callback",
    "http://127.0.0.1/oauth/callback",
]
DOCS_CLIENT_ID = "api-docs"
BACK_OFFICE_CLIENT_ID = "bright-days-back-office"
BACK_OFFICE_SECRET = "demo-back-office-secret-2026"  # noqa: S105 (demo data only)

DEMO_LOGINS = [
    ("person@demo.example", "Priya Shah", Role.PERSON, "holds a personal health budget"),
    ("parent@demo.example", "Mark Jones", Role.REPRESENTATIVE, "parent acting for Leo Jones"),
    ("broker@demo.example", "Bola Adeyemi", Role.BROKER, "support broker with a caseload"),
    ("provider@demo.example", "Sam Carter", Role.PROVIDER_STAFF, "owner of Bright Days Care"),
    ("admin@demo.example", "Alex Morgan", Role.ADMIN, "commissioner staff at the ICB"),
]


def _get_or_create(session: Session, model: type, lookup: dict[str, object], **values: object):
    row = session.scalars(select(model).filter_by(**lookup)).first()
    if row is None:
        row = model(**lookup, **values)
        session.add(row)
        session.flush()
    return row


def _all_scopes_for(*roles: Role) -> str:
    return " ".join(sorted({str(s) for r in roles for s in ROLE_SCOPES[r]}))


def seed_accounts(session: Session, *, docs_redirect_uri: str) -> dict[str, object]:
    """Create the demo commissioner, people, users (one per role) and OAuth clients."""
    icb = _get_or_create(
        session, Commissioner, {"ods_code": "QWO"}, name="West Yorkshire ICB", kind="icb"
    )
    council = _get_or_create(
        session, Commissioner, {"ods_code": "E08000035"}, name="Leeds City Council", kind="council"
    )
    users: dict[str, User] = {}
    for email, name, role, _ in DEMO_LOGINS:
        user = session.scalars(select(User).where(User.email == email)).first()
        if user is None:
            user = User(
                email=email,
                display_name=name,
                password_hash=hash_password(DEMO_PASSWORD),
                commissioner_id=icb.id if role in (Role.ADMIN, Role.BROKER) else None,
            )
            user.role_grants.append(UserRole(role=str(role)))
            session.add(user)
            session.flush()
        users[str(role)] = user
    broker = users[str(Role.BROKER)]
    priya = _get_or_create(
        session,
        Person,
        {"nhs_number": "9434765919"},
        given_name="Priya",
        family_name="Shah",
        date_of_birth=date(1987, 3, 14),
        postcode="LS6 2AB",
        commissioner_id=icb.id,
        broker_id=broker.id,
    )
    users[str(Role.PERSON)].person_id = priya.id
    leo = _get_or_create(
        session,
        Person,
        {"nhs_number": "9434765870"},
        given_name="Leo",
        family_name="Jones",
        date_of_birth=date(2014, 9, 2),
        postcode="LS11 5QT",
        commissioner_id=icb.id,
        broker_id=broker.id,
    )
    _get_or_create(
        session,
        Representation,
        {"representative_id": users[str(Role.REPRESENTATIVE)].id, "person_id": leo.id},
        relationship_to_person="parent",
    )
    organisation = _get_or_create(
        session,
        ProviderOrganisation,
        {"name": "Bright Days Care"},
        kind="company",
        status="verified",
    )
    _get_or_create(
        session,
        ProviderMembership,
        {"user_id": users[str(Role.PROVIDER_STAFF)].id, "organisation_id": organisation.id},
        membership_role="owner",
    )
    every_role_scope = _all_scopes_for(*Role)
    mobile = _get_or_create(
        session,
        OAuthClient,
        {"client_id": MOBILE_APP_CLIENT_ID},
        name="Choice and Control mobile app",
        is_public=True,
        grant_types=["authorization_code", "refresh_token"],
    )
    mobile.redirect_uris = MOBILE_APP_REDIRECT_URIS
    mobile.allowed_scopes = every_role_scope
    docs = _get_or_create(
        session,
        OAuthClient,
        {"client_id": DOCS_CLIENT_ID},
        name="API documentation page",
        is_public=True,
        grant_types=["authorization_code"],
    )
    # The docs page builds its redirect URI from the host it is opened on.
    docs.redirect_uris = sorted(
        {docs_redirect_uri, docs_redirect_uri.replace("//127.0.0.1:", "//localhost:")}
    )
    docs.allowed_scopes = every_role_scope
    back_office = _get_or_create(
        session,
        OAuthClient,
        {"client_id": BACK_OFFICE_CLIENT_ID},
        name="Bright Days Care rota system",
        is_public=False,
        client_secret_hash=hash_password(BACK_OFFICE_SECRET),
        grant_types=["client_credentials"],
        redirect_uris=[],
        organisation_id=organisation.id,
    )
    back_office.allowed_scopes = " ".join(sorted(str(s) for s in BACK_OFFICE_SCOPES))
    session.flush()
    return {
        "commissioner": icb,
        "council": council,
        "users": users,
        "people": [priya, leo],
        "organisation": organisation,
    }
