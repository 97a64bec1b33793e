"""Caseload endpoints for support brokers."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.caseload import service
from budgets.caseload.schemas import (
    AwaitingPlanSchema,
    ReviewDueSchema,
    ReviewsDueArgsSchema,
    SpendingAlertSchema,
)

blp = Blueprint(
    "caseload",
    __name__,
    url_prefix="/v1/caseload",
    description="A support broker's caseload: decisions waiting, reviews due, spending alerts.",
)


@blp.route("/plans-awaiting-decision")
class PlansAwaiting(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(AwaitingPlanSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Plans waiting for your decision, oldest first, with how long they have waited"""
        return service.plans_awaiting_decision(get_session(), actor=g.actor, page=args["page"])


@blp.route("/reviews-due")
class ReviewsDue(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(ReviewsDueArgsSchema(), location="query")
    @blp.response(200, page_schema(ReviewDueSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Approved plans with a review due soon or overdue"""
        return service.reviews_due(
            get_session(), actor=g.actor, page=args["page"], within_days=args["within_days"]
        )


@blp.route("/spending-alerts")
class SpendingAlerts(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(SpendingAlertSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Budgets running low or heavily underspent against the plan"""
        return service.spending_alerts(get_session(), actor=g.actor, page=args["page"])
