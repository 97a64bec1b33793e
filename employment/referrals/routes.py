"""Referral, caseload, contact and appointment endpoints."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from app.db import get_session
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from app.sync import sync_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Scope
from employment.api import blp, require_employment_read
from employment.models import Referral
from employment.referrals import contacts, service
from employment.referrals.schemas import (
    AcceptSchema,
    ActivateSchema,
    AppointmentSchema,
    ContactSchema,
    DischargeSchema,
    ReassignSchema,
    ReferralCreateSchema,
    ReferralQueryArgsSchema,
    ReferralSchema,
)


def _tagged(referral: Referral, status: int = 200) -> tuple[Referral, int, dict[str, str]]:
    return referral, status, {"ETag": version_etag(referral.id, referral.version)}


@blp.route("/referrals")
class Referrals(MethodView):
    @require_employment_read
    @blp.arguments(ReferralQueryArgsSchema(), location="query")
    @blp.response(200, sync_schema(ReferralSchema))
    @documents_problems(422)
    def get(self, args: dict[str, Any]) -> Any:
        """Referrals you can see: your own, your caseload's, or your service's; newest first
        (delta sync with `updated_since`: oldest change first)."""
        return service.list_referrals(get_session(), actor=g.actor, **args)

    @require_auth()
    @idempotent
    @blp.arguments(ReferralCreateSchema())
    @blp.response(201, ReferralSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Join an IPS service: refer yourself, someone on your caseload, or (as the service)
        record a clinician's referral. The only question is whether the person wants paid work.
        """
        return _tagged(service.refer(get_session(), actor=g.actor, **data), 201)


@blp.route("/referrals/<referral_id>")
class ReferralItem(MethodView):
    @require_employment_read
    @blp.response(200, ReferralSchema)
    @documents_problems(404)
    def get(self, referral_id: str) -> Any:
        """One referral and where it has got to."""
        return _tagged(service.get_referral(get_session(), actor=g.actor, referral_id=referral_id))


@blp.route("/referrals/<referral_id>/accept")
class AcceptReferral(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(AcceptSchema())
    @blp.response(200, ReferralSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Accept onto a specialist's caseload; past the limit needs a recorded override reason."""
        return _tagged(
            service.accept(get_session(), actor=g.actor, referral_id=referral_id, **data)
        )


@blp.route("/referrals/<referral_id>/reassign")
class ReassignReferral(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(ReassignSchema())
    @blp.response(200, ReferralSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Move the person to another specialist (the caseload limit applies)."""
        return _tagged(
            service.reassign(get_session(), actor=g.actor, referral_id=referral_id, **data)
        )


@blp.route("/referrals/<referral_id>/activate")
class ActivateReferral(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(ActivateSchema())
    @blp.response(200, ReferralSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Mark the person active after their first contact."""
        return _tagged(
            service.activate(get_session(), actor=g.actor, referral_id=referral_id, **data)
        )


@blp.route("/referrals/<referral_id>/discharge")
class DischargeReferral(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(DischargeSchema())
    @blp.response(200, ReferralSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Discharge with one of the listed reasons."""
        return _tagged(
            service.discharge(get_session(), actor=g.actor, referral_id=referral_id, **data)
        )


@blp.route("/referrals/<referral_id>/withdraw")
class WithdrawReferral(MethodView):
    @require_auth(Scope.EMPLOYMENT_WRITE)
    @blp.response(200, ReferralSchema)
    @documents_problems(404, 409)
    def post(self, referral_id: str) -> Any:
        """Leave the service yourself (or for the person you represent); you can rejoin later."""
        return _tagged(service.withdraw(get_session(), actor=g.actor, referral_id=referral_id))


@blp.route("/referrals/<referral_id>/contacts")
class Contacts(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(ContactSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], referral_id: str) -> Any:
        """Contacts made for this person."""
        return contacts.list_contacts(
            get_session(), actor=g.actor, referral_id=referral_id, page=args["page"]
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(ContactSchema())
    @blp.response(201, ContactSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Log a contact: with the person, an employer, their team or Jobcentre."""
        return contacts.record_contact(
            get_session(), actor=g.actor, referral_id=referral_id, **data
        ), 201


@blp.route("/referrals/<referral_id>/appointments")
class Appointments(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(AppointmentSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], referral_id: str) -> Any:
        """This person's appointments, soonest first."""
        return contacts.list_appointments(
            get_session(), actor=g.actor, referral_id=referral_id, page=args["page"]
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(AppointmentSchema())
    @blp.response(201, AppointmentSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Book an appointment; the person and their representatives are notified."""
        return contacts.book_appointment(
            get_session(), actor=g.actor, referral_id=referral_id, **data
        ), 201


@blp.route("/appointments/<appointment_id>/cancel")
class CancelAppointment(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.response(200, AppointmentSchema)
    @documents_problems(404, 409)
    def post(self, appointment_id: str) -> Any:
        """Cancel an appointment; the person is told."""
        return contacts.cancel_appointment(
            get_session(), actor=g.actor, appointment_id=appointment_id
        )
