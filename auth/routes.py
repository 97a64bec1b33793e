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
    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """Who you are signed in as, your roles, and the people you can act for."""
        return service.describe_me(get_session(), actor=g.actor)
