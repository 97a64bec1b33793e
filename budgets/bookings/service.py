"""Booking use cases: book an offer against an approved plan line (committing the money in
the same transaction), the provider's accept / decline, cancellation by either side under
the offer's terms, and completion."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, func, select, true
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import new_id, utcnow
from app.direct_sql import DirectStatement
from app.domain_errors import Forbidden, NotFound, RuleViolation
from app.notifications import notify
from app.pagination import PageRequest
from app.stored_records import insert_records
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
from budgets.funding.facts import BudgetFacts, StreamFacts
from budgets.funding.models import Budget, FundingStream
from budgets.ledger.service import commit_to_line, plan_line_for_booking, release_commitment
from budgets.ledger.sums import note_locked_sums
from budgets.plans.models import CarePlan, PlanLine
from budgets.providers import service as providers
from budgets.providers.models import OrganisationStatus, ProviderOrganisation
from budgets.providers.offers.models import Offer, OfferStatus

CAUSE = "booking"


def _refuse(code: str, detail: str, **extensions: Any) -> RuleViolation:
    return RuleViolation(code, detail, **extensions)


# What booking reads, in one statement: the plan line with its plan's status and owner;
# the offer with its organisation's status and the organisation's staff, who are told of
# the request; and the budget's facts and streams ("id:kind" pairs). The offer and the
# budget are locked until the booking commits (FOR NO KEY UPDATE, as ledger.lock_budget
# explains), and the budget's ledger sums come with its lock, as they stand once it is
# taken (budgets/ledger/sums.py). Plain rows, not records: the booking copies these facts
# and changes none of them.
_BUDGET_STREAMS = (
    select(func.aggregate_strings(FundingStream.id.concat(":").concat(FundingStream.kind), " "))
    .where(FundingStream.budget_id == Budget.id)
    .scalar_subquery()
)
_LINE_AND_LOCKED_OFFER = DirectStatement(
    select(
        PlanLine.id,
        PlanLine.lineage_id,
        PlanLine.category,
        PlanLine.unit,
        PlanLine.unit_cost_pence,
        PlanLine.start_date,
        PlanLine.end_date,
        PlanLine.funding_stream_id,
        PlanLine.planned_total_pence,
        CarePlan.status.label("plan_status"),
        CarePlan.person_id,
        CarePlan.budget_id,
        Offer.id.label("offer_id"),
        Offer.organisation_id,
        Offer.title.label("offer_title"),
        Offer.category.label("offer_category"),
        Offer.unit.label("offer_unit"),
        Offer.price_pence,
        Offer.currency,
        Offer.cancellation_notice_hours,
        Offer.cancellation_charge_percent,
        Offer.accepting_new_people,
        Offer.capacity,
        Offer.status.label("offer_status"),
        ProviderOrganisation.status.label("organisation_status"),
        provider_staff_column(ProviderOrganisation.id).label("staff"),
        Budget.status.label("budget_status"),
        Budget.release_schedule,
        Budget.period_start,
        Budget.period_end,
        Budget.currency.label("budget_currency"),
        Budget.ledger_sums,
        _BUDGET_STREAMS.label("streams"),
    )
    .select_from(PlanLine)
    .join(CarePlan, CarePlan.id == PlanLine.plan_id)
    .join(Budget, Budget.id == CarePlan.budget_id)
    .join(Offer, true())
    .join(ProviderOrganisation, ProviderOrganisation.id == Offer.organisation_id)
    .where(PlanLine.id == bindparam("plan_line_id"), Offer.id == bindparam("offer_id"))
    .with_for_update(key_share=True, of=[Offer, Budget])
)


def _locked_budget(parties: Any) -> BudgetFacts:
    """The budget's facts from a row of `_LINE_AND_LOCKED_OFFER`."""
    streams = (pair.split(":", 1) for pair in sorted((parties.streams or "").split()))
    return BudgetFacts(
        id=parties.budget_id,
        person_id=parties.person_id,
        status=parties.budget_status,
        release_schedule=parties.release_schedule,
        period_start=parties.period_start,
        period_end=parties.period_end,
        currency=parties.budget_currency,
        streams=tuple(StreamFacts(stream_id, kind) for stream_id, kind in streams),
    )


def _line_and_locked_offer(
    session: Session, actor: Actor, *, plan_line_id: str, offer_id: str
) -> Any:
    """The plan line the actor books against (404 unless theirs to see) and the offer
    (404 unless published or withdrawn), with the offer and the budget locked until the
    booking commits: one row of `_LINE_AND_LOCKED_OFFER`."""
    session.flush()  # as the ORM's autoflush would
    found = _LINE_AND_LOCKED_OFFER.first(
        session, {"plan_line_id": plan_line_id, "offer_id": offer_id}
    )
    if found is None:  # one of them does not exist: the line's lookup says if it is the line
        plan_line_for_booking(session, plan_line_id=plan_line_id, actor=actor)
        raise NotFound("No such offer.")
    if not can_see_person(session, actor, found.person_id):
        raise NotFound("No such plan line.")
    if found.offer_status == OfferStatus.DRAFT:
        raise NotFound("No such offer.")
    note_locked_sums(session, found.budget_id, found.ledger_sums)
    return found


def _check_offer(session: Session, parties: Any) -> None:
    """Refuse an offer its provider cannot deliver to this person now (`parties` as
    `_line_and_locked_offer` returns them)."""
    if parties.organisation_status != OrganisationStatus.VERIFIED:
        raise _refuse("provider-not-bookable", "This provider cannot take bookings at the moment.")
    if parties.offer_status != OfferStatus.PUBLISHED:
        raise _refuse("offer-not-available", "This offer has been withdrawn by the provider.")
    if parties.accepting_new_people and parties.capacity is None:
        return  # open to anyone: whether this person already has a booking does not matter
    open_bookings = select(Booking.person_id).where(
        Booking.offer_id == parties.offer_id, Booking.status.in_(OPEN_BOOKING_STATUSES)
    )
    returning = session.scalar(open_bookings.where(Booking.person_id == parties.person_id).limit(1))
    if returning:
        return
    if not parties.accepting_new_people:
        raise _refuse("offer-not-accepting", "This provider is not taking on new people.")
    if parties.capacity is not None:
        holders = open_bookings.subquery()
        taken = session.scalar(select(func.count(func.distinct(holders.c.person_id))))
        if (taken or 0) >= parties.capacity:
            raise _refuse("offer-at-capacity", "This offer is fully booked at the moment.")


def _check_terms(parties: Any, start_date: date, end_date: date) -> None:
    """Refuse an offer whose terms the plan line does not cover."""
    if parties.plan_status != "approved":
        raise _refuse(
            "plan-not-approved", "Only lines of an approved care and support plan can be booked."
        )
    if parties.offer_category != parties.category:
        raise _refuse(
            "category-mismatch",
            f"This plan line is for {parties.category}, but the offer is {parties.offer_category}.",
        )
    if parties.offer_unit != parties.unit:
        raise _refuse(
            "unit-mismatch",
            f"The plan line is priced per {parties.unit}, the offer per {parties.offer_unit}.",
        )
    if parties.price_pence > parties.unit_cost_pence:
        raise _refuse(
            "price-above-plan-line",
            "The offer costs more per unit than the plan allows for this line.",
            plan_unit_cost_pence=parties.unit_cost_pence,
            offer_price_pence=parties.price_pence,
        )
    if start_date < parties.start_date or end_date > parties.end_date:
        raise _refuse(
            "dates-outside-plan-line",
            f"The plan line runs from {parties.start_date} to {parties.end_date}.",
        )


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
    _check_terms(parties, start_date, end_date)
    _check_offer(session, parties)
    now = utcnow()
    row = {
        "id": new_id(),
        "person_id": parties.person_id,
        "organisation_id": parties.organisation_id,
        "offer_id": parties.offer_id,
        "plan_line_id": parties.id,
        "budget_id": parties.budget_id,
        "category": parties.offer_category,
        "unit": parties.offer_unit,
        "unit_price_pence": parties.price_pence,
        "units": units,
        "total_pence": parties.price_pence * units,
        "currency": parties.currency,
        "cancellation_notice_hours": parties.cancellation_notice_hours,
        "cancellation_charge_percent": parties.cancellation_charge_percent,
        "start_date": start_date,
        "end_date": end_date,
        "schedule": schedule,
        "status": BookingStatus.REQUESTED,
        "booked_by_user_id": actor.user_id,
        "decided_at": None,
        "decline_reason": None,
        "cancelled_at": None,
        "cancelled_by_side": None,
        "cancellation_reason": None,
        "cancellation_charge_pence": 0,
        "released_pence": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    commit_to_line(
        session,
        line=parties,
        locked_budget=_locked_budget(parties),
        amount_pence=row["total_pence"],
        cause_type=CAUSE,
        cause_id=row["id"],
        actor=actor,
    )
    # The booking, its postings, their audit rows and the providers' notifications are
    # held and go to the database together, after the last read (the money's check).
    (booking,) = insert_records(session, Booking, [row], held=True)
    _record(session, actor, booking, "booking.create", total_pence=booking.total_pence)
    notify(
        session,
        user_ids=parties.staff.split() if parties.staff else [],
        kind="booking.requested",
        title="New booking request",
        body=f"{units} x {parties.offer_unit} of {parties.offer_title} from {start_date}.",
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
