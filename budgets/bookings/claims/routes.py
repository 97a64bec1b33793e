"""Claim endpoints under /v1, and the `flask confirm-due-claims` command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_db, get_session
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import page_schema
from app.sync import sync_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.bookings.claims import service
from budgets.bookings.claims.schemas import ClaimCreateSchema, ClaimQueryArgsSchema, ClaimSchema
from budgets.bookings.models import Claim
from budgets.bookings.schemas import ReasonSchema

blp = Blueprint("claims", __name__, url_prefix="/v1", description="Delivery claims", cli_group=None)
PROVIDER = [Role.PROVIDER_STAFF, "back_office"]
PERSON_SIDE = [Role.PERSON, Role.REPRESENTATIVE]


def _tagged(claim: Claim, status: int = 200) -> Any:
    return claim, status, {"ETag": version_etag(claim.id, claim.version)}


@blp.route("/bookings/<booking_id>/claims")
class BookingClaims(MethodView):
    @require_auth()
    @blp.arguments(ClaimQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(ClaimSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any], booking_id: str) -> Any:
        """The claims made under a booking, newest first."""
        args["booking_id"] = booking_id
        page = args.pop("page")
        return service.list_claims(get_session(), actor=g.actor, page=page, **args)

    @require_auth(Scope.BOOKINGS_MANAGE, roles=PROVIDER)
    @idempotent
    @blp.arguments(ClaimCreateSchema())
    @blp.response(201, ClaimSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], booking_id: str) -> Any:
        """Claim for a delivery under an accepted booking (provider), at the agreed price.

        Refused (422, see `code`) for a date outside the booking or in the future, more
        units than booked, or a delivery already claimed (`duplicate-claim`).
        """
        window = timedelta(days=current_app.config.get("CLAIM_CONFIRMATION_WINDOW_DAYS", 7))
        return _tagged(
            service.record_claim(
                get_session(),
                actor=g.actor,
                booking_id=booking_id,
                confirmation_window=window,
                **data,
            ),
            201,
        )


@blp.route("/claims")
class Claims(MethodView):
    @require_auth()
    @blp.arguments(ClaimQueryArgsSchema(), location="query")
    @blp.response(200, sync_schema(ClaimSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Claims you may see (yours, those you act for, or your organisation's); newest
        first (delta sync with `updated_since`: oldest change first)."""
        page = args.pop("page")
        return service.list_claims(get_session(), actor=g.actor, page=page, **args)


@blp.route("/claims/<claim_id>")
class ClaimItem(MethodView):
    @require_auth()
    @blp.response(200, ClaimSchema)
    @documents_problems(404)
    def get(self, claim_id: str) -> Any:
        """One claim."""
        return _tagged(service.get_claim(get_session(), actor=g.actor, claim_id=claim_id))


@blp.route("/claims/<claim_id>/confirm")
class ConfirmClaim(MethodView):
    @require_auth(Scope.BOOKINGS_WRITE, roles=PERSON_SIDE)
    @idempotent
    @blp.response(200, ClaimSchema)
    @documents_problems(404, 409)
    def post(self, claim_id: str) -> Any:
        """Confirm the delivery happened as claimed; the claim becomes payable."""
        return _tagged(service.confirm_claim(get_session(), actor=g.actor, claim_id=claim_id))


@blp.route("/claims/<claim_id>/dispute")
class DisputeClaim(MethodView):
    @require_auth(Scope.BOOKINGS_WRITE, roles=PERSON_SIDE)
    @blp.arguments(ReasonSchema())
    @blp.response(200, ClaimSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], claim_id: str) -> Any:
        """Dispute a claim with a reason; nothing is paid and the provider is told."""
        return _tagged(
            service.dispute_claim(
                get_session(), actor=g.actor, claim_id=claim_id, reason=data["reason"]
            )
        )


@blp.cli.command("confirm-due-claims")
def confirm_due_claims_command() -> None:
    """Confirm claims left unanswered past their confirmation window (run it hourly)."""
    session = get_db().session_factory()
    try:
        click.echo(f"confirmed {service.confirm_due_claims(session)} claims")
    finally:
        session.close()
