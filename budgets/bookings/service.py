"""Booking use cases: book an offer against an approved plan line (committing the money in
the same transaction), the provider's accept / decline, cancellation by either side under
the offer's terms, and completion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, func, select, true
from sqlalchemy.orm import Session, joinedload, lazyload

from app.audit import record_audit
from app.db import utcnow
from app.domain_errors import Forbidden, NotFound, RuleViolation
from app.notifications import notify
from app.pagination import PageRequest
from app.sync import SyncPage, Tombstone, sync_page
from auth.access import can_see_person, visible_people_clause
from auth.actor import Actor
from budgets.bookings.models import (
    BOOKING_TRANSITIONS,
    OPEN_BOOKING_STATUSES,
    Booking,
    BookingStatus,
    Claim,
    ClaimKind,
    ClaimStatus,
    move,
)
from budgets.bookings.parties import (
    Side,
    person_side_user_ids,
    provider_staff_column,
    provider_user_ids,
    require_read_scope,
    side_of,
    visible_clause,
)
from budgets.ledger.service import commit_funds, plan_line_for_booking, release_commitment
from budgets.plans.models import CarePlan, PlanLine
from budgets.providers import service as providers
from budgets.providers.models import ProviderOrganisation
from budgets.providers.offers.models import Offer, OfferStatus

CAUSE = "booking"


def _refuse(code: str, detail: str, **extensions: Any) -> RuleViolation:
    return RuleViolation(code, detail, **extensions)


# The plan line (with its plan), and the offer (locked) with its organisation and the
# organisation's staff, who are told of the request: what booking reads, in one statement.
_LINE_AND_LOCKED_OFFER = (
    select(
        PlanLine,
        Offer,
        ProviderOrganisation,
        provider_staff_column(ProviderOrganisation.id).label("staff"),
    )
    .select_from(PlanLine)
    .join(Offer, true())
    .join(ProviderOrganisation, ProviderOrganisation.id == Offer.organisation_id)
    .where(PlanLine.id == bindparam("plan_line_id"), Offer.id == bindparam("offer_id"))
    .with_for_update(of=Offer)
    # Booking reads neither's service areas, nor the plan's outcomes.
    .options(
        joinedload(PlanLine.plan).lazyload(CarePlan.outcomes),
        lazyload(Offer.areas),
        lazyload(ProviderOrganisation.areas),
    )
)


@dataclass(frozen=True)
class _Parties:
    line: PlanLine
    offer: Offer
    organisation: ProviderOrganisation
    staff_ids: list[str]


def _line_and_locked_offer(
    session: Session, actor: Actor, *, plan_line_id: str, offer_id: str
) -> _Parties:
    """The plan line the actor books against (404 unless theirs to see) and the offer,
    locked until the booking commits (404 unless published or withdrawn)."""
    row = session.execute(
        _LINE_AND_LOCKED_OFFER, {"plan_line_id": plan_line_id, "offer_id": offer_id}
    ).first()
    if row is None:  # one of them does not exist: the line's lookup says if it is the line
        plan_line_for_booking(session, plan_line_id=plan_line_id, actor=actor)
        raise NotFound("No such offer.")
    line, offer, organisation, staff = row
    if not can_see_person(session, actor, line.plan.person_id):
        raise NotFound("No such plan line.")
    if offer.status == OfferStatus.DRAFT:
        raise NotFound("No such offer.")
    return _Parties(line, offer, organisation, staff.split() if staff else [])


def _check_offer(
    session: Session, offer: Offer, organisation: ProviderOrganisation, person_id: str
) -> None:
    if not organisation.is_bookable:
        raise _refuse("provider-not-bookable", "This provider cannot take bookings at the moment.")
    if offer.status != OfferStatus.PUBLISHED:
        raise _refuse("offer-not-available", "This offer has been withdrawn by the provider.")
    if offer.accepting_new_people and offer.capacity is None:
        return  # open to anyone: whether this person already has a booking does not matter
    open_bookings = select(Booking.person_id).where(
        Booking.offer_id == offer.id, Booking.status.in_(OPEN_BOOKING_STATUSES)
    )
    returning = session.scalar(open_bookings.where(Booking.person_id == person_id).limit(1))
    if returning:
        return
    if not offer.accepting_new_people:
        raise _refuse("offer-not-accepting", "This provider is not taking on new people.")
    if offer.capacity is not None:
        holders = open_bookings.subquery()
        taken = session.scalar(select(func.count(func.distinct(holders.c.person_id))))
        if (taken or 0) >= offer.capacity:
            raise _refuse("offer-at-capacity", "This offer is fully booked at the moment.")


def book_offer(
    session: Session,
    *,
    actor: Actor,
    offer_id: str,
    plan_line_id: str,
    units: int,
    start_date: date,
    end_date: date,
    schedule: str,
) -> Booking:
    """Book an offer against a line of the person's approved plan, committing the money."""
    parties = _line_and_locked_offer(session, actor, plan_line_id=plan_line_id, offer_id=offer_id)
    line, offer, organisation = parties.line, parties.offer, parties.organisation
    if line.plan_status != "approved":
        raise _refuse(
            "plan-not-approved", "Only lines of an approved care and support plan can be booked."
        )
    if offer.category != line.category:
        raise _refuse(
            "category-mismatch",
            f"This plan line is for {line.category}, but the offer is {offer.category}.",
        )
    if offer.unit != line.unit:
        raise _refuse(
            "unit-mismatch", f"The plan line is priced per {line.unit}, the offer per {offer.unit}."
        )
    if offer.price_pence > line.unit_cost_pence:
        raise _refuse(
            "price-above-plan-line",
            "The offer costs more per unit than the plan allows for this line.",
            plan_unit_cost_pence=line.unit_cost_pence,
            offer_price_pence=offer.price_pence,
        )
    if start_date < line.start_date or end_date > line.end_date:
        raise _refuse(
            "dates-outside-plan-line",
            f"The plan line runs from {line.start_date} to {line.end_date}.",
        )
    _check_offer(session, offer, organisation, line.person_id)
    booking = Booking(
        person_id=line.person_id,
        organisation_id=organisation.id,
        offer_id=offer.id,
        plan_line_id=line.id,
        budget_id=line.budget_id,
        category=offer.category,
        unit=offer.unit,
        unit_price_pence=offer.price_pence,
        units=units,
        total_pence=offer.price_pence * units,
        currency=offer.currency,
        cancellation_notice_hours=offer.cancellation_notice_hours,
        cancellation_charge_percent=offer.cancellation_charge_percent,
        start_date=start_date,
        end_date=end_date,
        schedule=schedule,
        status=BookingStatus.REQUESTED,
        booked_by_user_id=actor.user_id,
        cancellation_charge_pence=0,
        released_pence=0,
    )
    session.add(booking)
    session.flush()
    commit_funds(
        session,
        plan_line_id=line.id,
        amount_pence=booking.total_pence,
        cause_type=CAUSE,
        cause_id=booking.id,
        actor=actor,
    )
    _record(session, actor, booking, "booking.create", total_pence=booking.total_pence)
    notify(
        session,
        user_ids=parties.staff_ids,
        kind="booking.requested",
        title="New booking request",
        body=f"{units} x {offer.unit} of {offer.title} from {start_date}.",
        record_type="booking",
        record_id=booking.id,
    )
    session.commit()
    return booking


def _record(session: Session, actor: Actor | None, booking: Booking, action: str, **details: Any):
    return record_audit(
        session,
        actor=actor,
        action=action,
        record_type="booking",
        record_id=booking.id,
        subject_person_id=booking.person_id,
        details={"status": booking.status, **details},
    )


def _visible_booking(session: Session, actor: Actor, booking_id: str, *, lock: bool) -> Booking:
    stmt = select(Booking).where(
        Booking.id == booking_id,
        visible_clause(actor, Booking.person_id, Booking.organisation_id),
    )
    booking = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def get_booking(session: Session, *, actor: Actor, booking_id: str) -> Booking:
    """One booking, for the person's side or the provider's (404 for anyone else)."""
    require_read_scope(actor)
    booking = _visible_booking(session, actor, booking_id, lock=False)
    _record(session, actor, booking, "booking.read")
    session.commit()
    return booking


def list_bookings(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: str | None = None,
    person_id: str | None = None,
    organisation_id: str | None = None,
    plan_line_id: str | None = None,
    updated_since: datetime | None = None,
    sync_overlap_seconds: int = 0,
) -> SyncPage[Booking]:
    """Bookings the caller may see, optionally for one person, org or status, newest first;
    with `updated_since` only those changed since then, oldest change first."""
    require_read_scope(actor)
    stmt = select(Booking).where(visible_clause(actor, Booking.person_id, Booking.organisation_id))
    if status:
        stmt = stmt.where(Booking.status == status)
    if person_id:
        stmt = stmt.where(Booking.person_id == person_id)
    if organisation_id:
        stmt = stmt.where(Booking.organisation_id == organisation_id)
    if plan_line_id:
        stmt = stmt.where(Booking.plan_line_id == plan_line_id)
    result = sync_page(
        session,
        stmt,
        updated_at=Booking.updated_at,
        id=Booking.id,
        page=page,
        scope=f"bookings:{status}:{person_id}:{organisation_id}:{plan_line_id}",
        updated_since=updated_since,
        record_type="booking",
        # Bookings are never deleted (cancelled instead); listed for completeness.
        deleted_visible=visible_people_clause(
            actor, cast("ColumnElement[str]", Tombstone.owner_id)
        ),
        overlap_seconds=sync_overlap_seconds,
        full_sync_keys=[Booking.id],
        full_sync_descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="booking.list",
        record_type="booking",
        record_id=None,
        subject_person_id=person_id,
        details={"count": len(result.items)},
    )
    session.commit()
    return result


def outstanding_commitment(session: Session, booking: Booking) -> int:
    """Money still committed for this booking that no standing claim accounts for."""
    claimed = session.scalar(
        select(func.coalesce(func.sum(Claim.amount_pence), 0)).where(
            Claim.booking_id == booking.id, Claim.status != ClaimStatus.DISPUTED
        )
    )
    return booking.total_pence - booking.released_pence - int(claimed or 0)


def _release(session: Session, actor: Actor | None, booking: Booking, amount: int, note: str):
    if amount <= 0:
        return
    release_commitment(
        session,
        plan_line_id=booking.plan_line_id,
        amount_pence=amount,
        cause_type=CAUSE,
        cause_id=booking.id,
        actor=actor,
        note=note,
    )
    booking.released_pence += amount


def _provider_action(session: Session, actor: Actor, booking_id: str) -> Booking:
    booking = _visible_booking(session, actor, booking_id, lock=True)
    side = side_of(
        session, actor, person_id=booking.person_id, organisation_id=booking.organisation_id
    )
    if side is not Side.PROVIDER:
        raise Forbidden("Only the provider can do this.")
    return booking


def accept_booking(session: Session, *, actor: Actor, booking_id: str) -> Booking:
    """The provider accepts a booking request."""
    booking = _provider_action(session, actor, booking_id)
    booking.status = move(booking.status, BookingStatus.ACCEPTED, BOOKING_TRANSITIONS, "booking")
    booking.decided_at = utcnow()
    booking.version += 1
    _record(session, actor, booking, "booking.accept")
    _tell_person(session, booking, "booking.accepted", "Your booking was accepted")
    session.commit()
    return booking


def decline_booking(session: Session, *, actor: Actor, booking_id: str, reason: str) -> Booking:
    """The provider declines a booking request; the money goes back to the budget."""
    booking = _provider_action(session, actor, booking_id)
    booking.status = move(booking.status, BookingStatus.DECLINED, BOOKING_TRANSITIONS, "booking")
    booking.decided_at = utcnow()
    booking.decline_reason = reason
    _release(session, actor, booking, outstanding_commitment(session, booking), "declined")
    booking.version += 1
    _record(session, actor, booking, "booking.decline", released_pence=booking.released_pence)
    _tell_person(session, booking, "booking.declined", "Your booking was declined", reason)
    session.commit()
    return booking


def complete_booking(session: Session, *, actor: Actor, booking_id: str) -> Booking:
    """The provider closes an accepted booking; money no claim accounts for is released."""
    booking = _provider_action(session, actor, booking_id)
    booking.status = move(booking.status, BookingStatus.COMPLETED, BOOKING_TRANSITIONS, "booking")
    _release(session, actor, booking, outstanding_commitment(session, booking), "completed")
    booking.version += 1
    _record(session, actor, booking, "booking.complete", released_pence=booking.released_pence)
    _tell_person(session, booking, "booking.completed", "Your booking is complete")
    session.commit()
    return booking


def _late_charge(booking: Booking, outstanding: int, now: datetime) -> int:
    """What the offer's terms charge for cancelling now: nothing with enough notice."""
    starts = datetime.combine(booking.start_date, time.min, tzinfo=UTC)
    if booking.status != BookingStatus.ACCEPTED or booking.cancellation_charge_percent == 0:
        return 0
    if starts - now >= timedelta(hours=booking.cancellation_notice_hours):
        return 0
    return outstanding * booking.cancellation_charge_percent // 100


def cancel_booking(
    session: Session, *, actor: Actor, booking_id: str, reason: str, now: datetime | None = None
) -> Booking:
    """Cancel a booking from either side under the offer's terms.

    The commitment is released, less any late-cancellation charge the person's side owes;
    the charge becomes a confirmed claim that payments pays like any other.
    """
    now = now or utcnow()
    booking = _visible_booking(session, actor, booking_id, lock=True)
    side = side_of(
        session, actor, person_id=booking.person_id, organisation_id=booking.organisation_id
    )
    outstanding = outstanding_commitment(session, booking)
    charge = _late_charge(booking, outstanding, now) if side is Side.PERSON else 0
    booking.status = move(booking.status, BookingStatus.CANCELLED, BOOKING_TRANSITIONS, "booking")
    booking.cancelled_at = now
    booking.cancelled_by_side = side
    booking.cancellation_reason = reason
    booking.cancellation_charge_pence = charge
    _release(session, actor, booking, outstanding - charge, "cancelled")
    if charge:
        session.add(
            Claim(
                booking_id=booking.id,
                organisation_id=booking.organisation_id,
                person_id=booking.person_id,
                plan_line_id=booking.plan_line_id,
                budget_id=booking.budget_id,
                kind=ClaimKind.CANCELLATION_CHARGE,
                delivered_on=now.date(),
                units=0,
                amount_pence=charge,
                currency=booking.currency,
                status=ClaimStatus.CONFIRMED,
                delivery_key=f"{booking.id}:cancellation",
                recorded_by_user_id=actor.user_id,
                recorded_by_client_id=actor.client_id if actor.user_id is None else None,
                confirmed_at=now,
                auto_confirmed=True,
            )
        )
    booking.version += 1
    _record(
        session,
        actor,
        booking,
        "booking.cancel",
        side=str(side),
        charge_pence=charge,
        released_pence=booking.released_pence,
    )
    title = "A booking was cancelled"
    if side is Side.PERSON:
        notify(
            session,
            user_ids=provider_user_ids(session, booking.organisation_id),
            kind="booking.cancelled",
            title=title,
            body=reason,
            record_type="booking",
            record_id=booking.id,
        )
    else:
        _tell_person(session, booking, "booking.cancelled", title, reason)
    session.commit()
    return booking


def _tell_person(session: Session, booking: Booking, kind: str, title: str, body: str = "") -> None:
    notify(
        session,
        user_ids=person_side_user_ids(session, booking.person_id),
        kind=kind,
        title=title,
        body=body,
        record_type="booking",
        record_id=booking.id,
    )


def _tell_people_of_suspension(
    session: Session, organisation: ProviderOrganisation, actor: Actor
) -> None:
    """When a provider is suspended, everyone with an open booking with it is told."""
    people = session.scalars(
        select(Booking.person_id)
        .where(
            Booking.organisation_id == organisation.id,
            Booking.status.in_(OPEN_BOOKING_STATUSES),
        )
        .distinct()
    ).all()
    for person_id in people:
        notify(
            session,
            user_ids=person_side_user_ids(session, person_id),
            kind="provider.suspended",
            title=f"{organisation.name} is suspended",
            body="Your booking with this provider is on hold. Your broker can help you.",
            record_type="provider_organisation",
            record_id=organisation.id,
        )
    record_audit(
        session,
        actor=actor,
        action="provider.suspension_notified",
        record_type="provider_organisation",
        record_id=organisation.id,
        details={"people": len(people)},
    )


providers.suspension_listeners.append(_tell_people_of_suspension)
