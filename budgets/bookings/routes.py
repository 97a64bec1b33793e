"""Booking endpoints under /v1."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.sync import sync_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.bookings import service
from budgets.bookings.models import Booking
from budgets.bookings.schemas import (
    BookingCreateSchema,
    BookingQueryArgsSchema,
    BookingSchema,
    ReasonSchema,
)

blp = Blueprint("bookings", __name__, url_prefix="/v1", description="Bookings of offers")
BOOKERS = [Role.PERSON, Role.REPRESENTATIVE, Role.BROKER]
PROVIDER = [Role.PROVIDER_STAFF, "back_office"]


def _tagged(booking: Booking, status: int = 200) -> Any:
    return booking, status, {"ETag": version_etag(booking.id, booking.version)}


@blp.route("/bookings")
class Bookings(MethodView):
    @require_auth()
    @blp.arguments(BookingQueryArgsSchema(), location="query")
    @blp.response(200, sync_schema(BookingSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Bookings you may see: your own or those you act for, your caseload's, or your
        organisation's; newest first (delta sync with `updated_since`: oldest change first)."""
        page = args.pop("page")
        return service.list_bookings(get_session(), actor=g.actor, page=page, **args)

    @require_auth(Scope.BOOKINGS_WRITE, roles=BOOKERS)
    @idempotent
    @blp.arguments(BookingCreateSchema())
    @blp.response(201, BookingSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Book an offer against a line of the person's approved plan.

        The money is committed in the same transaction. Refused (422 `rule-violation`,
        see `code`) when the plan is not approved, the category or unit differs, the dates
        fall outside the line, the price is above the line's unit cost, the provider or
        offer cannot be booked, or the money is not available (`insufficient-funds`).
        """
        return _tagged(service.book_offer(get_session(), actor=g.actor, **data), 201)


@blp.route("/bookings/<booking_id>")
class BookingItem(MethodView):
    @require_auth()
    @blp.response(200, BookingSchema)
    @documents_problems(404)
    def get(self, booking_id: str) -> Any:
        """One booking."""
        return _tagged(service.get_booking(get_session(), actor=g.actor, booking_id=booking_id))


@blp.route("/bookings/<booking_id>/accept")
class AcceptBooking(MethodView):
    @require_auth(Scope.BOOKINGS_MANAGE, roles=PROVIDER)
    @blp.response(200, BookingSchema)
    @documents_problems(404, 409)
    def post(self, booking_id: str) -> Any:
        """Accept a booking request (provider)."""
        return _tagged(service.accept_booking(get_session(), actor=g.actor, booking_id=booking_id))


@blp.route("/bookings/<booking_id>/decline")
class DeclineBooking(MethodView):
    @require_auth(Scope.BOOKINGS_MANAGE, roles=PROVIDER)
    @idempotent
    @blp.arguments(ReasonSchema())
    @blp.response(200, BookingSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], booking_id: str) -> Any:
        """Decline a booking request with a reason (provider); the money is released."""
        return _tagged(
            service.decline_booking(
                get_session(), actor=g.actor, booking_id=booking_id, reason=data["reason"]
            )
        )


@blp.route("/bookings/<booking_id>/cancel")
class CancelBooking(MethodView):
    @require_auth()
    @idempotent
    @blp.arguments(ReasonSchema())
    @blp.response(200, BookingSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], booking_id: str) -> Any:
        """Cancel a booking (either side) under the offer's cancellation terms.

        The commitment is released, less any late-cancellation charge when the person's
        side cancels an accepted booking with less notice than the terms ask; the charge
        becomes a confirmed claim the provider is paid.
        """
        return _tagged(
            service.cancel_booking(
                get_session(), actor=g.actor, booking_id=booking_id, reason=data["reason"]
            )
        )


@blp.route("/bookings/<booking_id>/complete")
class CompleteBooking(MethodView):
    @require_auth(Scope.BOOKINGS_MANAGE, roles=PROVIDER)
    @idempotent
    @blp.response(200, BookingSchema)
    @documents_problems(404, 409)
    def post(self, booking_id: str) -> Any:
        """Close an accepted booking (provider); money no claim accounts for is released."""
        return _tagged(
            service.complete_booking(get_session(), actor=g.actor, booking_id=booking_id)
        )
