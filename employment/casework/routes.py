"""Vocational profile, disclosure and benefits planning endpoints."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from app.db import get_session
from app.etag import if_match_tags
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Scope
from employment.api import blp, require_employment_read
from employment.casework import service
from employment.casework.schemas import (
    BenefitsSessionSchema,
    DisclosureDiscussionSchema,
    VocationalProfileSchema,
)


@blp.route("/referrals/<referral_id>/profile")
class Profile(MethodView):
    @require_employment_read
    @blp.response(200, VocationalProfileSchema)
    @documents_problems(404)
    def get(self, referral_id: str) -> Any:
        """The person's vocational profile: preferences, strengths, history, education."""
        profile = service.get_profile(get_session(), actor=g.actor, referral_id=referral_id)
        return profile, 200, {"ETag": version_etag(profile.id, profile.version)}

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(VocationalProfileSchema())
    @blp.response(200, VocationalProfileSchema)
    @documents_problems(404, 412, 422, 428)
    def put(self, data: dict[str, Any], referral_id: str) -> Any:
        """Write the profile (201 the first time; after that send If-Match)."""
        profile, created = service.write_profile(
            get_session(),
            actor=g.actor,
            referral_id=referral_id,
            if_match=if_match_tags(),
            fields=data,
        )
        return profile, 201 if created else 200, {"ETag": version_etag(profile.id, profile.version)}


@blp.route("/referrals/<referral_id>/disclosure-discussions")
class Disclosures(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(DisclosureDiscussionSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], referral_id: str) -> Any:
        """Every discussion about disclosing the condition to employers."""
        return service.list_disclosures(
            get_session(), actor=g.actor, referral_id=referral_id, page=args["page"]
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(DisclosureDiscussionSchema())
    @blp.response(201, DisclosureDiscussionSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Record a disclosure discussion (earlier ones are kept)."""
        return service.record_disclosure(
            get_session(), actor=g.actor, referral_id=referral_id, **data
        ), 201


@blp.route("/referrals/<referral_id>/benefits-sessions")
class BenefitsSessions(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(BenefitsSessionSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], referral_id: str) -> Any:
        """Benefits (work-incentive) planning sessions."""
        return service.list_benefits_sessions(
            get_session(), actor=g.actor, referral_id=referral_id, page=args["page"]
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(BenefitsSessionSchema())
    @blp.response(201, BenefitsSessionSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Record a benefits planning session; UC is estimated from the dated rates."""
        return service.record_benefits_session(
            get_session(), actor=g.actor, referral_id=referral_id, **data
        ), 201
