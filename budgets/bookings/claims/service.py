"""Claim use cases: the provider records a delivery against an accepted booking; the
person (or their representative) confirms or disputes it within the confirmation window,
after which it confirms itself. Confirmed claims are payable; until paid, the money stays
committed in the ledger."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, bindparam, func, select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import utcnow
from app.direct_sql import DirectStatement
from app.domain_errors import Forbidden, InvalidState, NotFound, RuleViolation
from app.notifications import notify
from app.pagination import PageRequest
from app.stored_records import stored_record, update_record
from app.sync import SyncPage, Tombstone, sync_page
from auth.access import can_see_person, visible_people_clause
from auth.actor import Actor
from budgets.bookings.models import (
    CLAIM_TRANSITIONS,
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


def _record(session: Session, actor: Actor | None, claim: Claim, action: str, **details: Any):
    return record_audit(
        session,
        actor=actor,
        action=action,
        record_type="claim",
        record_id=claim.id,
        subject_person_id=claim.person_id,
        details={"status": claim.status, "amount_pence": claim.amount_pence, **details},
    )


def record_claim(
    session: Session,
    *,
    actor: Actor,
    booking_id: str,
    delivered_on: date,
    units: int,
    note: str,
    confirmation_window: timedelta,
    today: date | None = None,
) -> Claim:
    """The provider claims for a delivery under an accepted booking, at the agreed price."""
    today = today or utcnow().date()
    booking = session.scalars(
        select(Booking)
        .where(
            Booking.id == booking_id,
            visible_clause(actor, Booking.person_id, Booking.organisation_id),
        )
        .with_for_update()
    ).first()
    if booking is None:
        raise NotFound("No such booking.")
    side = side_of(
        session, actor, person_id=booking.person_id, organisation_id=booking.organisation_id
    )
    if side is not Side.PROVIDER:
        raise Forbidden("Only the provider claims for a delivery.")
    if booking.status != BookingStatus.ACCEPTED:
        raise InvalidState(
            f"Deliveries can only be claimed on accepted bookings, not {booking.status}."
        )
    if not booking.start_date <= delivered_on <= booking.end_date:
        raise RuleViolation(
            "claim-date-outside-booking",
            f"The booking runs from {booking.start_date} to {booking.end_date}.",
        )
    if delivered_on > today:
        raise RuleViolation("claim-date-in-future", "A delivery can only be claimed once made.")
    key = f"{booking.id}:{delivered_on.isoformat()}"
    if session.scalar(select(Claim.id).where(Claim.delivery_key == key)):
        raise RuleViolation(
            "duplicate-claim", f"The delivery on {delivered_on} has already been claimed."
        )
    claimed_units = session.scalar(
        select(func.coalesce(func.sum(Claim.units), 0)).where(
            Claim.booking_id == booking.id,
            Claim.kind == ClaimKind.DELIVERY,
            Claim.status != ClaimStatus.DISPUTED,
        )
    )
    if int(claimed_units or 0) + units > booking.units:
        raise RuleViolation(
            "claim-exceeds-booked-units",
            f"The booking is for {booking.units} {booking.unit}(s); "
            f"{claimed_units} already claimed.",
            units_left=booking.units - int(claimed_units or 0),
        )
    now = utcnow()
    claim = Claim(
        booking_id=booking.id,
        organisation_id=booking.organisation_id,
        person_id=booking.person_id,
        plan_line_id=booking.plan_line_id,
        budget_id=booking.budget_id,
        kind=ClaimKind.DELIVERY,
        delivered_on=delivered_on,
        units=units,
        amount_pence=units * booking.unit_price_pence,
        currency=booking.currency,
        status=ClaimStatus.SUBMITTED,
        delivery_key=key,
        note=note,
        recorded_by_user_id=actor.user_id,
        recorded_by_client_id=actor.client_id if actor.user_id is None else None,
        confirm_by=now + confirmation_window,
        auto_confirmed=False,
    )
    session.add(claim)
    session.flush()
    _record(session, actor, claim, "claim.create", booking_id=booking.id)
    notify(
        session,
        user_ids=person_side_user_ids(session, booking.person_id),
        kind="claim.to_confirm",
        title="Please confirm a delivery",
        body=f"{units} {booking.unit}(s) on {delivered_on}. It confirms itself if you do nothing.",
        record_type="claim",
        record_id=claim.id,
    )
    session.commit()
    return claim


def _visible(actor: Actor, claim_id: str) -> ColumnElement[bool]:
    """This claim, if it is the actor's person's or organisation's to see."""
    return and_(Claim.id == claim_id, visible_clause(actor, Claim.person_id, Claim.organisation_id))


def _visible_claim(session: Session, actor: Actor, claim_id: str) -> Claim:
    claim = session.scalars(select(Claim).where(_visible(actor, claim_id))).first()
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def get_claim(session: Session, *, actor: Actor, claim_id: str) -> Claim:
    """One claim, for the person's side or the provider's (404 for anyone else)."""
    require_read_scope(actor)
    claim = _visible_claim(session, actor, claim_id)
    _record(session, actor, claim, "claim.read")
    session.commit()
    return claim


def list_claims(
    session: Session,
    *,
    actor: Actor,
    page: PageRequest,
    status: str | None = None,
    booking_id: str | None = None,
    updated_since: datetime | None = None,
    sync_overlap_seconds: int = 0,
) -> SyncPage[Claim]:
    """Claims the caller may see, optionally by status or booking, newest first;
    with `updated_since` only those changed since then, oldest change first."""
    require_read_scope(actor)
    stmt = select(Claim).where(visible_clause(actor, Claim.person_id, Claim.organisation_id))
    if status:
        stmt = stmt.where(Claim.status == status)
    if booking_id:
        visible_booking = select(Booking.id).where(
            Booking.id == booking_id,
            visible_clause(actor, Booking.person_id, Booking.organisation_id),
        )
        if session.scalar(visible_booking) is None:
            raise NotFound("No such booking.")
        stmt = stmt.where(Claim.booking_id == booking_id)
    result = sync_page(
        session,
        stmt,
        updated_at=Claim.updated_at,
        id=Claim.id,
        page=page,
        scope=f"claims:{status}:{booking_id}",
        updated_since=updated_since,
        record_type="claim",
        # Claims are never deleted (disputed instead); listed for completeness.
        deleted_visible=visible_people_clause(
            actor, cast("ColumnElement[str]", Tombstone.owner_id)
        ),
        overlap_seconds=sync_overlap_seconds,
        full_sync_keys=[Claim.id],
        full_sync_descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="claim.list",
        record_type="claim",
        record_id=booking_id,
        details={"count": len(result.items)},
    )
    session.commit()
    return result


# A claim the person decides, locked, with the provider's staff, who are told of the
# decision: one statement by id, whoever asks, built once. Who may decide is checked on
# the row (`_person_decides`); anyone else's request ends, and lets go of the lock, at once.
_CLAIM_AND_STAFF = DirectStatement(
    select(
        *Claim.__table__.columns,
        provider_staff_column(Claim.organisation_id).label("staff"),
    )
    .where(Claim.id == bindparam("claim_id"))
    .with_for_update(of=Claim)
)


def _person_decides(session: Session, actor: Actor, claim_id: str) -> tuple[Claim, list[str]]:
    """The claim, locked, if the actor decides it for the person (404 if they may not see
    it, 403 if they see it from another side); with the provider's staff."""
    session.flush()  # as the ORM's autoflush would
    found = _CLAIM_AND_STAFF.first(session, {"claim_id": claim_id})
    if found is None:
        raise NotFound("No such claim.")
    *columns, staff = found
    values = dict(zip(found._fields[:-1], columns, strict=True))
    visible = values["organisation_id"] in actor.organisation_ids or can_see_person(
        session, actor, values["person_id"]
    )
    if not visible:
        raise NotFound("No such claim.")
    side = side_of(
        session, actor, person_id=values["person_id"], organisation_id=values["organisation_id"]
    )
    if side is not Side.PERSON or values["person_id"] not in actor.own_person_ids:
        raise Forbidden("Only the person or their representative confirms or disputes a claim.")
    return stored_record(session, Claim, values), staff.split() if staff else []


def _tell_provider(
    session: Session, claim: Claim, staff_ids: list[str], kind: str, title: str, body: str = ""
) -> None:
    notify(
        session,
        user_ids=staff_ids,
        kind=kind,
        title=title,
        body=body,
        record_type="claim",
        record_id=claim.id,
    )


def confirm_claim(session: Session, *, actor: Actor, claim_id: str) -> Claim:
    """The person confirms the delivery happened as claimed: the claim becomes payable."""
    claim, staff_ids = _person_decides(session, actor, claim_id)
    now = utcnow()
    update_record(
        session,
        claim,
        {
            "status": move(claim.status, ClaimStatus.CONFIRMED, CLAIM_TRANSITIONS, "claim"),
            "confirmed_at": now,
            "confirmed_by_user_id": actor.user_id,
            "version": claim.version + 1,
            "updated_at": now,
        },
    )
    _record(session, actor, claim, "claim.confirm")
    _tell_provider(session, claim, staff_ids, "claim.confirmed", "A delivery was confirmed")
    session.commit()
    return claim


def dispute_claim(session: Session, *, actor: Actor, claim_id: str, reason: str) -> Claim:
    """The person disputes the claim; nothing is paid and the provider may claim again."""
    claim, staff_ids = _person_decides(session, actor, claim_id)
    now = utcnow()
    update_record(
        session,
        claim,
        {
            "status": move(claim.status, ClaimStatus.DISPUTED, CLAIM_TRANSITIONS, "claim"),
            "disputed_at": now,
            "dispute_reason": reason,
            "delivery_key": None,
            "version": claim.version + 1,
            "updated_at": now,
        },
    )
    _record(session, actor, claim, "claim.dispute")
    _tell_provider(
        session, claim, staff_ids, "claim.disputed", "A delivery claim was disputed", reason
    )
    session.commit()
    return claim


def confirm_due_claims(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Confirm claims nobody confirmed or disputed within the window; returns how many."""
    now = now or utcnow()
    claims = session.scalars(
        select(Claim)
        .where(Claim.status == ClaimStatus.SUBMITTED, Claim.confirm_by <= now)
        .order_by(Claim.confirm_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for claim in claims:
        claim.status = ClaimStatus.CONFIRMED
        claim.confirmed_at = now
        claim.auto_confirmed = True
        claim.version += 1
        _record(session, None, claim, "claim.auto_confirm")
        staff_ids = provider_user_ids(session, claim.organisation_id)
        _tell_provider(session, claim, staff_ids, "claim.confirmed", "A delivery was confirmed")
        notify(
            session,
            user_ids=person_side_user_ids(session, claim.person_id),
            kind="claim.auto_confirmed",
            title="A delivery was confirmed automatically",
            record_type="claim",
            record_id=claim.id,
        )
    session.commit()
    return len(claims)
