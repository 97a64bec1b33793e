"""Account endpoints under /v1."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.openapi import documents_problems
from auth import closure, service
from auth.guard import require_auth
from auth.roles import Role, Scope
from auth.schemas import ClosedAccountSchema, MeSchema

blp = Blueprint("accounts", __name__, url_prefix="/v1", description="Your account")


@blp.route("/me")
class Me(MethodView):
    @require_auth(Scope.PROFILE)
    @blp.response(
        200,
        MeSchema,
        example={
            "id": "0193a0a1-0000-7000-8000-00000000a001",
            "email": "sam@example.org",
            "display_name": "Sam Patel",
            "roles": ["person"],
            "scopes": ["profile", "budgets:read", "plans:write", "notifications"],
            "person_id": "0193a0a1-0000-7000-8000-00000000b001",
            "acts_for": [
                {
                    "id": "0193a0a1-0000-7000-8000-00000000b001",
                    "given_name": "Sam",
                    "family_name": "Patel",
                    "relationship": "self",
                }
            ],
            "organisations": [],
            "commissioner_id": None,
        },
    )
    def get(self) -> dict[str, Any]:
        """Who you are signed in as, your roles, and the people you can act for."""
        return service.describe_me(get_session(), actor=g.actor)


@blp.route("/me/close")
class CloseMyAccount(MethodView):
    @require_auth(Scope.PROFILE)
    @blp.response(200, ClosedAccountSchema)
    @documents_problems(409)
    def post(self) -> Any:
        """Close your account: every sign-in and every registered phone stops at once.

        Your budget and records are kept (the money must still be accounted for); ask
        your commissioner about erasure.
        """
        return closure.close_own_account(get_session(), actor=g.actor)


@blp.route("/accounts/<user_id>/close")
class CloseAccount(MethodView):
    @require_auth(Scope.ACCOUNTS_MANAGE, roles=[Role.ADMIN])
    @blp.response(200, ClosedAccountSchema)
    @documents_problems(404, 409)
    def post(self, user_id: str) -> Any:
        """Close the login of one of your commissioner's people (tokens and phones revoked)."""
        return closure.close_account_for_person(get_session(), actor=g.actor, user_id=user_id)
