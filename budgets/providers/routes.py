"""Provider organisation endpoints under /v1: sign-up, registration, details, members and
the commissioner's decisions."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.etag import if_match_tags
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.providers import service
from budgets.providers.models import ProviderOrganisation
from budgets.providers.schemas import (
    DecisionReasonSchema,
    MemberCreateSchema,
    MemberSchema,
    OrganisationCreateSchema,
    OrganisationQueryArgsSchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
    SignUpResultSchema,
    SignUpSchema,
    VerifySchema,
)

blp = Blueprint(
    "providers", __name__, url_prefix="/v1", description="Provider organisations and their staff"
)
STAFF = [Role.PROVIDER_STAFF]


def _tagged(record: ProviderOrganisation, status: int = 200) -> Any:
    return record, status, {"ETag": version_etag(record.id, record.version)}


@blp.route("/provider-sign-ups")
class ProviderSignUps(MethodView):
    @idempotent
    @blp.arguments(SignUpSchema())
    @blp.response(201, SignUpResultSchema)
    @documents_problems(409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Sign up a provider organisation with the account of its first owner.

        The organisation starts unverified; a commissioner verifies it before it can
        publish offers or take bookings.
        """
        organisation, owner = service.sign_up_provider(
            get_session(), organisation=data["organisation"], owner=data["owner"]
        )
        return {"organisation": organisation, "owner_user_id": owner.id}


@blp.route("/providers")
class Organisations(MethodView):
    @require_auth(Scope.PROVIDERS_READ)
    @blp.arguments(OrganisationQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(OrganisationSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Provider organisations you may see: verified ones, your own, or all for admins."""
        return service.list_organisations(
            get_session(),
            actor=g.actor,
            page=args["page"],
            status=args.get("status"),
            mine=args["mine"],
        )

    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @idempotent
    @blp.arguments(OrganisationCreateSchema())
    @blp.response(201, OrganisationSchema)
    @documents_problems(422)
    def post(self, data: dict[str, Any]) -> Any:
        """Register another organisation, with you as its owner."""
        return _tagged(service.register_organisation(get_session(), actor=g.actor, data=data), 201)


@blp.route("/providers/<organisation_id>")
class OrganisationItem(MethodView):
    @require_auth(Scope.PROVIDERS_READ)
    @blp.response(200, OrganisationSchema)
    @documents_problems(404)
    def get(self, organisation_id: str) -> Any:
        """One provider organisation."""
        return _tagged(
            service.get_organisation(get_session(), actor=g.actor, organisation_id=organisation_id)
        )

    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @blp.arguments(OrganisationUpdateSchema())
    @blp.response(200, OrganisationSchema)
    @documents_problems(404, 412, 422, 428)
    def patch(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Change your organisation's details (owners; send If-Match)."""
        return _tagged(
            service.update_organisation(
                get_session(),
                actor=g.actor,
                organisation_id=organisation_id,
                if_match=if_match_tags(),
                changes=data,
            )
        )


def _decide(organisation_id: str, decision: str, reason: str | None) -> Any:
    return _tagged(
        service.decide_organisation(
            get_session(),
            actor=g.actor,
            organisation_id=organisation_id,
            decision=decision,
            reason=reason,
        )
    )


@blp.route("/providers/<organisation_id>/verify")
class VerifyOrganisation(MethodView):
    @require_auth(Scope.PROVIDERS_VERIFY, roles=[Role.ADMIN])
    @blp.arguments(VerifySchema())
    @blp.response(200, OrganisationSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Verify a provider (or reinstate a suspended one): it may publish and be booked."""
        return _decide(organisation_id, "verify", data.get("note"))


@blp.route("/providers/<organisation_id>/reject")
class RejectOrganisation(MethodView):
    @require_auth(Scope.PROVIDERS_VERIFY, roles=[Role.ADMIN])
    @blp.arguments(DecisionReasonSchema())
    @blp.response(200, OrganisationSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Reject an unverified provider's registration, with a reason they will read."""
        return _decide(organisation_id, "reject", data["reason"])


@blp.route("/providers/<organisation_id>/suspend")
class SuspendOrganisation(MethodView):
    @require_auth(Scope.PROVIDERS_VERIFY, roles=[Role.ADMIN])
    @blp.arguments(DecisionReasonSchema())
    @blp.response(200, OrganisationSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Suspend a verified provider: no new bookings; people with open bookings are told."""
        return _decide(organisation_id, "suspend", data["reason"])


@blp.route("/providers/<organisation_id>/members")
class Members(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(MemberSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any], organisation_id: str) -> Any:
        """The people who work for your organisation."""
        return service.list_members(
            get_session(), actor=g.actor, organisation_id=organisation_id, page=args["page"]
        )

    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @idempotent
    @blp.arguments(MemberCreateSchema())
    @blp.response(201, MemberSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], organisation_id: str) -> Any:
        """Add an existing account to your organisation as staff or owner (owners only)."""
        return service.add_member(
            get_session(), actor=g.actor, organisation_id=organisation_id, **data
        )


@blp.route("/providers/<organisation_id>/members/<user_id>")
class MemberItem(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=STAFF)
    @blp.response(204)
    @documents_problems(404, 409)
    def delete(self, organisation_id: str, user_id: str) -> None:
        """Remove someone from your organisation (owners only; never the last owner)."""
        service.remove_member(
            get_session(), actor=g.actor, organisation_id=organisation_id, user_id=user_id
        )
