"""Keyword builders for test data: each makes a valid record, any field overridable.

They write through the session given (flush, no commit), so rows vanish with the test's
rolled-back transaction. Tokens are issued straight into the token table; the OAuth flow
itself is tested end to end in tests/auth.
"""

from __future__ import annotations

import itertools
from typing import Any

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
from auth.roles import Role, scopes_for_roles
from auth.tokens import TokenLifetimes, issue_token
from budgets.providers.models import ProviderOrganisation

TEST_CLIENT_ID = "test-app"
_sequence = itertools.count(1)


def _n() -> int:
    return next(_sequence)


def build_commissioner(session: Session, **overrides: Any) -> Commissioner:
    n = _n()
    values: dict[str, Any] = {"name": f"Test ICB {n}", "kind": "icb", "ods_code": f"T{n:05d}"}
    values.update(overrides)
    commissioner = Commissioner(**values)
    session.add(commissioner)
    session.flush()
    return commissioner


def build_person(session: Session, **overrides: Any) -> Person:
    if "commissioner_id" not in overrides:
        overrides["commissioner_id"] = build_commissioner(session).id
    values: dict[str, Any] = {
        "given_name": "Test",
        "family_name": f"Person{_n()}",
        "postcode": "LS6 2AB",
    }
    values.update(overrides)
    person = Person(**values)
    session.add(person)
    session.flush()
    return person


def build_user(
    session: Session, *, roles: tuple[Role | str, ...] = (Role.PERSON,), **overrides: Any
) -> User:
    values: dict[str, Any] = {"email": f"user{_n()}@test.example", "display_name": "Test User"}
    values.update(overrides)
    user = User(**values)
    for role in roles:
        user.role_grants.append(UserRole(role=str(role)))
    session.add(user)
    session.flush()
    return user


def build_person_user(session: Session, **person_overrides: Any) -> User:
    """A person who holds a budget, with their own login."""
    person = build_person(session, **person_overrides)
    return build_user(session, roles=(Role.PERSON,), person_id=person.id)


def build_broker(session: Session, **overrides: Any) -> User:
    if "commissioner_id" not in overrides:
        overrides["commissioner_id"] = build_commissioner(session).id
    return build_user(session, roles=(Role.BROKER,), **overrides)


def build_admin(session: Session, **overrides: Any) -> User:
    if "commissioner_id" not in overrides:
        overrides["commissioner_id"] = build_commissioner(session).id
    return build_user(session, roles=(Role.ADMIN,), **overrides)


def build_representative(session: Session, *, person: Person, relationship: str = "parent") -> User:
    user = build_user(session, roles=(Role.REPRESENTATIVE,))
    session.add(
        Representation(
            representative_id=user.id, person_id=person.id, relationship_to_person=relationship
        )
    )
    session.flush()
    return user


def build_provider(session: Session, **overrides: Any) -> ProviderOrganisation:
    values: dict[str, Any] = {"name": f"Provider {_n()}", "kind": "company", "status": "verified"}
    values.update(overrides)
    organisation = ProviderOrganisation(**values)
    session.add(organisation)
    session.flush()
    return organisation


def build_provider_staff(
    session: Session,
    *,
    organisation: ProviderOrganisation | None = None,
    membership_role: str = "owner",
) -> User:
    organisation = organisation or build_provider(session)
    user = build_user(session, roles=(Role.PROVIDER_STAFF,))
    session.add(
        ProviderMembership(
            user_id=user.id, organisation_id=organisation.id, membership_role=membership_role
        )
    )
    session.flush()
    return user


def ensure_test_client(session: Session, **overrides: Any) -> OAuthClient:
    client_id = overrides.pop("client_id", TEST_CLIENT_ID)
    client = session.get(OAuthClient, client_id)
    if client is None:
        values: dict[str, Any] = {
            "client_id": client_id,
            "name": "Test app",
            "is_public": True,
            "redirect_uris": ["uk.example.test:/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "allowed_scopes": " ".join(sorted(scopes_for_roles({str(r) for r in Role}))),
        }
        values.update(overrides)
        client = OAuthClient(**values)
        session.add(client)
        session.flush()
    return client


LIFETIMES = TokenLifetimes(
    access_seconds=600, refresh_idle_seconds=3600, refresh_absolute_seconds=7200
)


def bearer_for(session: Session, user: User, *, scopes: set[str] | None = None) -> dict[str, str]:
    """Authorization headers for a token as the user (all their roles' scopes by default)."""
    ensure_test_client(session)
    granted = scopes if scopes is not None else set(scopes_for_roles(user.roles))
    issued = issue_token(
        session,
        client_id=TEST_CLIENT_ID,
        user_id=user.id,
        scope=" ".join(sorted(granted)),
        lifetimes=LIFETIMES,
        with_refresh_token=False,
    )
    return {"Authorization": f"Bearer {issued.access_token}"}


def bearer_for_back_office(
    session: Session, organisation: ProviderOrganisation, *, scopes: set[str]
) -> dict[str, str]:
    """Authorization headers for a provider back-office client (client credentials)."""
    client = ensure_test_client(
        session,
        client_id=f"back-office-{organisation.id[-12:]}",
        is_public=False,
        organisation_id=organisation.id,
        grant_types=["client_credentials"],
        redirect_uris=[],
    )
    issued = issue_token(
        session,
        client_id=client.client_id,
        user_id=None,
        scope=" ".join(sorted(scopes)),
        lifetimes=LIFETIMES,
        with_refresh_token=False,
    )
    return {"Authorization": f"Bearer {issued.access_token}"}


def build_offer(
    session: Session,
    *,
    organisation: ProviderOrganisation | None = None,
    areas: tuple[str, ...] = ("LS6",),
    **overrides: Any,
) -> Any:
    """A published offer (in person in `areas`) of a verified provider unless overridden."""
    from budgets.providers.offers.models import Offer, OfferArea

    organisation = organisation or build_provider(session)
    values: dict[str, Any] = {
        "title": f"Support sessions {_n()}",
        "description": "Friendly help at home and in the community.",
        "category": "personal_assistant",
        "unit": "hour",
        "price_pence": 2000,
        "delivers_in_person": True,
        "languages": ["en"],
        "status": "published",
    }
    values.update(overrides)
    offer = Offer(organisation_id=organisation.id, **values)
    offer.areas = [OfferArea(via="in_person", code=code) for code in areas]
    session.add(offer)
    session.flush()
    return offer
