"""The demo dataset: verified providers with published offers, loaded idempotently."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo import seed_demo
from budgets.providers.models import ProviderOrganisation
from budgets.providers.offers.models import Offer
from tests.builders import bearer_for, build_person_user


def test_demo_providers_are_verified_with_offers_and_seeding_twice_changes_nothing(
    client, db_session
) -> None:  # type: ignore[no-untyped-def]
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    offers = db_session.scalar(select(func.count()).select_from(Offer))
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    assert db_session.scalar(select(func.count()).select_from(Offer)) == offers
    bright = db_session.scalars(
        select(ProviderOrganisation).where(ProviderOrganisation.name == "Bright Days Care")
    ).one()
    assert bright.status == "verified" and bright.areas_served
    headers = bearer_for(db_session, build_person_user(db_session))
    found = client.get("/v1/offers?limit=100&area=LS6", headers=headers).json["items"]
    assert {o["category"] for o in found} >= {"personal_assistant", "activities", "therapy"}


def test_demo_has_a_booking_in_each_state_and_seeding_twice_adds_none(
    db_session,
) -> None:  # type: ignore[no-untyped-def]
    from budgets.bookings.models import Booking, Claim

    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    states = set(db_session.scalars(select(Booking.status)))
    assert states == {"requested", "accepted", "declined", "cancelled", "completed"}
    assert set(db_session.scalars(select(Claim.status))) >= {"confirmed", "submitted"}
    count = db_session.scalar(select(func.count()).select_from(Booking))
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    assert db_session.scalar(select(func.count()).select_from(Booking)) == count
