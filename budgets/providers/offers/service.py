"""Offer use cases for a provider's staff (draft, edit, publish, withdraw) and reading
offers as the people who buy them see them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import InvalidState, NotFound, RuleViolation, ValidationFailed
from app.pagination import Page, PageRequest, keyset_page
from app.versioning import check_if_match
from auth.actor import Actor
from auth.roles import Role
from budgets.providers.areas import parse_area, postcode_district
from budgets.providers.models import OrganisationStatus, ProviderOrganisation
from budgets.providers.offers.models import DeliveryMode, Offer, OfferArea, OfferStatus


def offers_with_organisation() -> Select[Offer]:
    """Offers joined to their organisation, loaded in the same query (no N+1). The
    organisation's own service areas are not part of an offer and are not loaded."""
    return (
        select(Offer)
        .join(Offer.organisation)
        .options(contains_eager(Offer.organisation).lazyload(ProviderOrganisation.areas))
    )


def _visible(actor: Actor) -> Any:
    """Published offers of verified providers, plus every offer of the caller's own org."""
    public = (Offer.status == OfferStatus.PUBLISHED) & (
        ProviderOrganisation.status == OrganisationStatus.VERIFIED
    )
    if actor.has_role(Role.ADMIN):
        return Offer.id.is_not(None)
    if actor.organisation_ids:
        return public | Offer.organisation_id.in_(sorted(actor.organisation_ids))
    return public


def get_offer(session: Session, *, actor: Actor, offer_id: str) -> Offer:
    """One offer, if the caller may see it (404 otherwise)."""
    offer = session.scalars(
        offers_with_organisation().where(Offer.id == offer_id, _visible(actor))
    ).first()
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def _own_offer(session: Session, *, actor: Actor, offer_id: str) -> Offer:
    offer = session.scalars(
        offers_with_organisation()
        .where(Offer.id == offer_id, Offer.organisation_id.in_(sorted(actor.organisation_ids)))
        .with_for_update(of=Offer)
    ).first()
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def _apply(offer: Offer, organisation: ProviderOrganisation, changes: dict[str, Any]) -> None:
    """Write the changes onto the offer and check the delivery details still hold together."""
    plain = {
        "title",
        "description",
        "category",
        "unit",
        "premises_postcode",
        "languages",
        "accessibility_notes",
        "accepting_new_people",
        "capacity",
    }
    for field in plain & changes.keys():
        setattr(offer, field, changes[field])
    if "price" in changes:
        offer.price_pence = changes["price"]["amount"]
        offer.currency = changes["price"]["currency"]
    if "cancellation_terms" in changes:
        offer.cancellation_notice_hours = changes["cancellation_terms"]["notice_hours"]
        offer.cancellation_charge_percent = changes["cancellation_terms"]["charge_percent"]
    if "delivery_modes" in changes:
        modes = set(changes["delivery_modes"])
        offer.delivers_in_person = DeliveryMode.IN_PERSON in modes
        offer.delivers_online = DeliveryMode.ONLINE in modes
        offer.delivers_at_premises = DeliveryMode.AT_PREMISES in modes
    errors: dict[str, list[str]] = {}
    in_person = list(changes.get("areas") or offer.area_codes)
    if offer.delivers_in_person and not in_person:
        in_person = organisation.areas_served
    if offer.delivers_in_person and not in_person:
        errors["areas"] = ["Say where you deliver in person (or set your organisation's areas)."]
    if offer.delivers_at_premises and not offer.premises_postcode:
        errors["premises_postcode"] = ["Give the postcode of the premises."]
    if errors:
        raise ValidationFailed(errors)
    wanted = {(str(DeliveryMode.IN_PERSON), parse_area(code)[1]) for code in in_person}
    if not offer.delivers_in_person:
        wanted = set()
    if offer.delivers_at_premises and offer.premises_postcode:
        wanted.add((str(DeliveryMode.AT_PREMISES), postcode_district(offer.premises_postcode)))
    current = {(a.via, a.code): a for a in offer.areas}
    if set(current) != wanted:
        offer.areas = [current.get(key) or OfferArea(via=key[0], code=key[1]) for key in wanted]


def create_offer(
    session: Session, *, actor: Actor, organisation_id: str, data: dict[str, Any]
) -> Offer:
    """Create a draft offer for the caller's organisation."""
    if organisation_id not in actor.organisation_ids:
        raise NotFound("No such provider organisation.")
    organisation = session.get(ProviderOrganisation, organisation_id)
    if organisation is None:
        raise NotFound("No such provider organisation.")
    if organisation.status in (OrganisationStatus.REJECTED, OrganisationStatus.SUSPENDED):
        raise RuleViolation(
            "provider-not-verified",
            f"A {organisation.status} organisation cannot add offers.",
        )
    offer = Offer(organisation_id=organisation_id, status=OfferStatus.DRAFT, languages=["en"])
    offer.organisation = organisation
    offer.areas = []
    _apply(offer, organisation, data)
    session.add(offer)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="offer.create",
        record_type="offer",
        record_id=offer.id,
        details={"organisation_id": organisation_id, "price_pence": offer.price_pence},
    )
    session.commit()
    return offer


def update_offer(
    session: Session,
    *,
    actor: Actor,
    offer_id: str,
    if_match: list[str] | None,
    changes: dict[str, Any],
) -> Offer:
    """Change an offer. Bookings already made keep the price they agreed."""
    offer = _own_offer(session, actor=actor, offer_id=offer_id)
    check_if_match(if_match, offer.id, offer.version)
    if offer.status == OfferStatus.WITHDRAWN:
        raise InvalidState("A withdrawn offer cannot be changed; create a new one.")
    before = offer.price_pence
    _apply(offer, offer.organisation, changes)
    offer.version += 1
    record_audit(
        session,
        actor=actor,
        action="offer.update",
        record_type="offer",
        record_id=offer.id,
        details={"fields": sorted(changes), "price_pence": [before, offer.price_pence]},
    )
    session.commit()
    return offer


def publish_offer(session: Session, *, actor: Actor, offer_id: str) -> Offer:
    """Publish a draft (or withdrawn) offer so people can find and book it."""
    offer = _own_offer(session, actor=actor, offer_id=offer_id)
    if not offer.organisation.is_bookable:
        raise RuleViolation(
            "provider-not-verified",
            "Your organisation must be verified by the commissioner before it can publish.",
        )
    if offer.status == OfferStatus.PUBLISHED:
        raise InvalidState("The offer is already published.")
    offer.status = OfferStatus.PUBLISHED
    offer.published_at = utcnow()
    offer.version += 1
    record_audit(
        session, actor=actor, action="offer.publish", record_type="offer", record_id=offer.id
    )
    session.commit()
    return offer


def withdraw_offer(session: Session, *, actor: Actor, offer_id: str) -> Offer:
    """Take an offer off the directory; bookings already made go on as agreed."""
    offer = _own_offer(session, actor=actor, offer_id=offer_id)
    if offer.status == OfferStatus.WITHDRAWN:
        raise InvalidState("The offer is already withdrawn.")
    offer.status = OfferStatus.WITHDRAWN
    offer.version += 1
    record_audit(
        session, actor=actor, action="offer.withdraw", record_type="offer", record_id=offer.id
    )
    session.commit()
    return offer


def list_organisation_offers(
    session: Session,
    *,
    actor: Actor,
    organisation_id: str,
    page: PageRequest,
    status: str | None,
) -> Page[Offer]:
    """An organisation's offers: all of them for its staff, published ones for others."""
    stmt = offers_with_organisation().where(
        Offer.organisation_id == organisation_id, _visible(actor)
    )
    if status:
        stmt = stmt.where(Offer.status == status)
    return keyset_page(
        session, stmt, keys=[Offer.id], page=page, scope=f"org-offers:{organisation_id}:{status}"
    )
