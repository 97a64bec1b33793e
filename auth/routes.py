"""Account endpoints under /v1."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from auth import service
from auth.guard import require_auth
from auth.roles import Scope
from auth.schemas import MeSchema

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
