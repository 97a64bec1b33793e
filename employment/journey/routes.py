"""The journey endpoint the app's employment screen reads."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from app.db import get_session
from app.openapi import documents_problems
from employment.api import blp, require_employment_read
from employment.journey import service
from employment.journey.schemas import JourneySchema


@blp.route("/people/<person_id>/journey")
class Journey(MethodView):
    @require_employment_read
    @blp.response(200, JourneySchema)
    @documents_problems(404)
    def get(self, person_id: str) -> Any:
        """Your IPS journey: specialist, next appointment, profile, job search and jobs."""
        return service.journey(get_session(), actor=g.actor, person_id=person_id)
