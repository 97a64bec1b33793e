"""Onboarding API under /v1: invitations (admins), provider sign-up, password reset requests.

Not `@idempotent`: a stored replay would keep a plaintext invitation link in the database.
A retried invitation makes a second link; only one account can ever be opened per email.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.openapi import documents_problems
from auth.guard import require_auth
from auth.onboarding import links
from auth.onboarding import service as onboarding
from auth.onboarding.schemas import (
    AcceptedSchema,
    InvitationCreateSchema,
    InvitationSchema,
    PasswordResetRequestSchema,
    ProviderSignupResultSchema,
    ProviderSignupSchema,
)
from auth.roles import Role, Scope

blp = Blueprint(
    "onboarding", __name__, url_prefix="/v1", description="Invitations, sign-up, password reset"
)

RESET_ANSWER = "If that email has an account, we have sent it a link to reset the password."


@blp.route("/invitations")
class Invitations(MethodView):
    @require_auth(Scope.ACCOUNTS_MANAGE, roles=[Role.ADMIN])
    @blp.arguments(InvitationCreateSchema)
    @blp.response(201, InvitationSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Invite a person, representative or broker: returns the single-use link (and
        emails it when SMTP is configured)."""
        link = onboarding.invite_user(
            get_session(),
            actor=g.actor,
            lifetime_seconds=int(current_app.config["INVITATION_LIFETIME_SECONDS"]),
            **data,
        )
        return {
            **onboarding.describe_invitation(get_session(), invitation_id=link.record_id),
            "invitation_url": links.invitation_url(link),
            "emailed": links.email_invitation(link, display_name=data["display_name"]),
        }


@blp.route("/provider-signups")
class ProviderSignups(MethodView):
    @blp.arguments(ProviderSignupSchema)
    @blp.response(201, ProviderSignupResultSchema)
    @documents_problems(409, 422)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register a provider organisation and its owner's login (unverified until an
        admin verifies it)."""
        user, organisation = onboarding.sign_up_provider(get_session(), **data)
        return {
            "user_id": user.id,
            "organisation_id": organisation.id,
            "organisation_status": organisation.status,
        }


@blp.route("/password-resets")
class PasswordResets(MethodView):
    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202, AcceptedSchema)
    @documents_problems(422)
    def post(self, data: dict[str, Any]) -> dict[str, str]:
        """Ask for a password reset link by email; the answer is the same for any email."""
        link = onboarding.request_password_reset(
            get_session(),
            email=data["email"],
            lifetime_seconds=int(current_app.config["PASSWORD_RESET_LIFETIME_SECONDS"]),
        )
        if link is not None:
            links.email_reset(link)
        return {"message": RESET_ANSWER}
