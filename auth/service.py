"""Account use cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain_errors import NotFound
from auth.actor import Actor
from auth.models import Person, ProviderMembership, Representation, User
from budgets.providers.models import ProviderOrganisation


def describe_me(session: Session, *, actor: Actor) -> dict[str, Any]:
    """The signed-in user, their roles and scopes, and the people they can act for."""
    if actor.user_id is None:
        raise NotFound("A client acting for itself has no user profile.")
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound()
    acts_for: list[dict[str, Any]] = []
    if user.person_id:
        own = session.get(Person, user.person_id)
        if own is not None:
            acts_for.append({**_person_summary(own), "relationship": "self"})
    represented = session.execute(
        select(Person, Representation.relationship_to_person)
        .join(Representation, Representation.person_id == Person.id)
        .where(Representation.representative_id == user.id, Representation.ended_at.is_(None))
        .order_by(Person.family_name, Person.given_name)
    ).all()
    acts_for += [{**_person_summary(p), "relationship": rel} for p, rel in represented]
    memberships = session.execute(
        select(ProviderMembership, ProviderOrganisation.name)
        .join(ProviderOrganisation, ProviderOrganisation.id == ProviderMembership.organisation_id)
        .where(ProviderMembership.user_id == user.id)
    ).all()
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "roles": sorted(user.roles),
        "scopes": sorted(actor.scopes),
        "person_id": user.person_id,
        "acts_for": acts_for,
        "organisations": [
            {
                "organisation_id": m.organisation_id,
                "name": name,
                "membership_role": m.membership_role,
            }
            for m, name in memberships
        ],
        "commissioner_id": user.commissioner_id,
    }


def _person_summary(person: Person) -> dict[str, Any]:
    return {"id": person.id, "given_name": person.given_name, "family_name": person.family_name}
