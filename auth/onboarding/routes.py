"""Onboarding API under /v1: invitations (admins) and password reset requests.

Not `@idempotent`: a stored replay would keep a plaintext invitation link in the database.
A retried invitation makes a second link; only one account can ever be opened per email.
(Provider organisations sign up through the providers package.)
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from auth.guard import require_auth
from auth.onboarding import links
from auth.onboarding import service as onboarding
from auth.onboarding.schemas import (
    AcceptedSchema,
    InvitationCreateSchema,
    InvitationSchema,
    NewInvitationSchema,
    PasswordResetRequestSchema,
)
from auth.roles import Role, Scope

blp = Blueprint(
    "onboarding", __name__, url_prefix="/v1", description="Invitations and password reset"
)

RESET_ANSWER = "If that email has an account, we have sent it a link to reset the password."


@blp.route("/invitations")
class Invitations(MethodView):
    @require_auth(Scope.ACCOUNTS_MANAGE, roles=[Role.ADMIN])
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(InvitationSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Your commissioner's invitations, newest first, with their status."""
        return onboarding.list_invitations(get_session(), actor=g.actor, page=args["page"])

    @require_auth(Scope.ACCOUNTS_MANAGE, roles=[Role.ADMIN])
    @blp.arguments(InvitationCreateSchema())
    @blp.response(201, NewInvitationSchema)
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


@blp.route("/invitations/<invitation_id>/withdraw")
class InvitationWithdrawal(MethodView):
    @require_auth(Scope.ACCOUNTS_MANAGE, roles=[Role.ADMIN])
    @blp.response(200, InvitationSchema)
    @documents_problems(404, 409)
    def post(self, invitation_id: str) -> dict[str, object]:
        """Withdraw an unused invitation: its link stops working."""
        return onboarding.withdraw_invitation(
            get_session(), actor=g.actor, invitation_id=invitation_id
        )


@blp.route("/password-resets")
class PasswordResets(MethodView):
    @blp.arguments(PasswordResetRequestSchema())
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
