"""Demo bookings, one in each state, on the demo people's approved plans (loaded by
`budgets.demo`) with the demo providers: Priya's personal assistant hours with Bright Days
Care requested, another accepted with a confirmed and a submitted claim, and one cancelled
with Jo Patel; Leo's short break completed and his therapy declined.

Made through the booking services, so the ledger holds the same commitments the API would
make. Idempotent: nothing is added once the demo people have any booking. Does nothing
until the budgets demo has given them approved plans.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from auth.actor import Actor
from auth.models import Person, ProviderMembership, Representation, User
from auth.roles import Role, Scope
from budgets.bookings import service as bookings
from budgets.bookings.claims import service as claims
from budgets.bookings.models import Booking
from budgets.plans.models import CarePlan, PlanLine
from budgets.providers.models import ProviderOrganisation
from budgets.providers.offers.models import Offer

PRIYA_NHS_NUMBER = "9434765919"
LEO_NHS_NUMBER = "9434765870"
WINDOW = timedelta(days=7)


def _approved_line(session: Session, person_id: str, category: str) -> PlanLine | None:
    return session.scalars(
        select(PlanLine)
        .join(CarePlan, CarePlan.id == PlanLine.plan_id)
        .where(
            CarePlan.person_id == person_id,
            CarePlan.status == "approved",
            PlanLine.category == category,
        )
    ).first()


def _offer(session: Session, organisation: str, title: str) -> Offer | None:
    return session.scalars(
        select(Offer)
        .join(ProviderOrganisation, ProviderOrganisation.id == Offer.organisation_id)
        .where(ProviderOrganisation.name == organisation, Offer.title == title)
    ).first()


def _person_actor(session: Session, person: Person) -> Actor | None:
    """The person's own login, or else their representative's."""
    user = session.scalars(select(User).where(User.person_id == person.id)).first()
    if user is not None:
        return Actor(
            user_id=user.id,
            client_id="demo-seed",
            roles=frozenset({str(Role.PERSON)}),
            scopes=frozenset({str(Scope.BOOKINGS_WRITE)}),
            person_id=person.id,
        )
    representative_id = session.scalar(
        select(Representation.representative_id).where(Representation.person_id == person.id)
    )
    if representative_id is None:
        return None
    return Actor(
        user_id=representative_id,
        client_id="demo-seed",
        roles=frozenset({str(Role.REPRESENTATIVE)}),
        scopes=frozenset({str(Scope.BOOKINGS_WRITE)}),
        represented_person_ids=frozenset({person.id}),
    )


def _provider_actor(session: Session, offer: Offer) -> Actor:
    """A staff member of the offer's organisation, or its back office when it has none."""
    user_id = session.scalar(
        select(ProviderMembership.user_id).where(
            ProviderMembership.organisation_id == offer.organisation_id
        )
    )
    return Actor(
        user_id=user_id,
        client_id="demo-seed",
        roles=frozenset({str(Role.PROVIDER_STAFF)}) if user_id else frozenset(),
        scopes=frozenset({str(Scope.BOOKINGS_MANAGE)}),
        organisation_ids=frozenset({offer.organisation_id}),
    )


def _book(
    session: Session, who: Actor, line: PlanLine, offer: Offer, units: int, start: date, end: date
) -> Booking:
    return bookings.book_offer(
        session,
        actor=who,
        offer_id=offer.id,
        plan_line_id=line.id,
        units=units,
        start_date=start,
        end_date=end,
        schedule="Weekday mornings",
    )


def seed_bookings(session: Session, *, today: date | None = None) -> None:
    """Add one demo booking in each state, if the demo people have none yet."""
    today = today or utcnow().date()
    priya = session.scalars(select(Person).where(Person.nhs_number == PRIYA_NHS_NUMBER)).first()
    leo = session.scalars(select(Person).where(Person.nhs_number == LEO_NHS_NUMBER)).first()
    if priya is None or leo is None:
        return
    if session.scalar(select(Booking.id).where(Booking.person_id.in_([priya.id, leo.id]))):
        return
    pa_line = _approved_line(session, priya.id, "personal_assistant")
    break_line = _approved_line(session, leo.id, "short_breaks")
    therapy_line = _approved_line(session, leo.id, "therapy")
    bright_pa = _offer(session, "Bright Days Care", "Personal assistant hours")
    jo_pa = _offer(session, "Jo Patel, Personal Assistant", "Personal assistant support")
    respite = _offer(session, "Bright Days Care", "Overnight respite stay")
    art = _offer(session, "Leeds Wellbeing Trust", "Art therapy group")
    priya_actor, leo_actor = _person_actor(session, priya), _person_actor(session, leo)
    if not (pa_line and break_line and therapy_line and priya_actor and leo_actor):
        return
    if not (bright_pa and jo_pa and respite and art):
        return
    start = max(pa_line.start_date, today - timedelta(days=14))
    end = min(pa_line.end_date, today + timedelta(days=60))
    _book(session, priya_actor, pa_line, bright_pa, 8, today + timedelta(days=7), end)

    accepted = _book(session, priya_actor, pa_line, bright_pa, 20, start, end)
    provider = _provider_actor(session, bright_pa)
    bookings.accept_booking(session, actor=provider, booking_id=accepted.id)
    done = claims.record_claim(
        session,
        actor=provider,
        booking_id=accepted.id,
        delivered_on=start,
        units=2,
        note="Shopping trip",
        confirmation_window=WINDOW,
    )
    claims.confirm_claim(session, actor=priya_actor, claim_id=done.id)
    claims.record_claim(
        session,
        actor=provider,
        booking_id=accepted.id,
        delivered_on=start + timedelta(days=7),
        units=2,
        note="Swimming with Priya",
        confirmation_window=WINDOW,
    )

    cancelled = _book(session, priya_actor, pa_line, jo_pa, 4, today + timedelta(days=30), end)
    bookings.cancel_booking(
        session, actor=priya_actor, booking_id=cancelled.id, reason="Found cover from family"
    )

    short_break = _book(
        session, leo_actor, break_line, respite, 2, break_line.start_date, break_line.end_date
    )
    respite_staff = _provider_actor(session, respite)
    bookings.accept_booking(session, actor=respite_staff, booking_id=short_break.id)
    bookings.complete_booking(session, actor=respite_staff, booking_id=short_break.id)

    therapy = _book(
        session, leo_actor, therapy_line, art, 4, therapy_line.start_date, therapy_line.end_date
    )
    bookings.decline_booking(
        session,
        actor=_provider_actor(session, art),
        booking_id=therapy.id,
        reason="Our groups are for adults; we suggest the children's service.",
    )
