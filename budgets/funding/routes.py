"""Budget endpoints: allocate, read, list, balances, adjustments and status changes."""

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
from app.sync import sync_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.funding import changes, service
from budgets.funding.schemas import (
    BalancesArgsSchema,
    BalancesSchema,
    BudgetChangeCreateSchema,
    BudgetChangeSchema,
    BudgetCreateSchema,
    BudgetListArgsSchema,
    BudgetSchema,
    BudgetUpdateSchema,
    balances_view,
)

blp = Blueprint(
    "budgets",
    __name__,
    url_prefix="/v1/budgets",
    description="Personal health budgets: allocation, balances, adjustments, suspension, "
    "ending and recovery. Amounts are integer pence.",
)


@blp.route("")
class Budgets(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(BudgetListArgsSchema(), location="query")
    @blp.response(200, sync_schema(BudgetSchema))
    @documents_problems(400, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """Budgets you may see (yours, your caseload's, your commissioner's), newest first
        (delta sync with `updated_since`: oldest change first)"""
        return service.list_budgets(
            get_session(),
            actor=g.actor,
            page=args["page"],
            person_id=args["person_id"],
            updated_since=args["updated_since"],
            sync_overlap_seconds=args["sync_overlap_seconds"],
        )

    @require_auth(Scope.BUDGETS_MANAGE, roles=[Role.ADMIN])
    @idempotent
    @blp.arguments(BudgetCreateSchema())
    @blp.response(201, BudgetSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Allocate a budget to a person (commissioner staff)"""
        budget = service.allocate_budget(get_session(), actor=g.actor, **data)
        return budget, 201, {"ETag": version_etag(budget.id, budget.version)}


@blp.route("/<budget_id>")
class BudgetItem(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.response(200, BudgetSchema)
    @documents_problems(404)
    def get(self, budget_id: str) -> Any:
        """One budget"""
        budget = service.get_budget(get_session(), budget_id=budget_id, actor=g.actor)
        return budget, 200, {"ETag": version_etag(budget.id, budget.version)}

    @require_auth(Scope.BUDGETS_MANAGE, roles=[Role.ADMIN])
    @blp.arguments(BudgetUpdateSchema())
    @blp.response(200, BudgetSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def patch(self, data: dict[str, Any], budget_id: str) -> Any:
        """Change the broker, how the money is held, or the release schedule (If-Match)"""
        budget = service.update_budget(
            get_session(), budget_id=budget_id, actor=g.actor, if_match=if_match_tags(), **data
        )
        return budget, 200, {"ETag": version_etag(budget.id, budget.version)}


@blp.route("/<budget_id>/balances")
class BudgetBalances(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(BalancesArgsSchema(), location="query")
    @blp.response(200, BalancesSchema)
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], budget_id: str) -> Any:
        """Allocated, released, committed, spent and available: overall, per stream, per line"""
        budget, figures = service.budget_balances(
            get_session(), budget_id=budget_id, actor=g.actor, plan_id=args["plan_id"]
        )
        return balances_view(budget, figures)


@blp.route("/<budget_id>/changes")
class BudgetChanges(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(BudgetChangeSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any], budget_id: str) -> Any:
        """Adjustments, suspensions, endings and recoveries, newest first"""
        return changes.list_changes(
            get_session(), budget_id=budget_id, actor=g.actor, page=args["page"]
        )

    @require_auth(Scope.BUDGETS_MANAGE, roles=[Role.ADMIN])
    @idempotent
    @blp.arguments(BudgetChangeCreateSchema())
    @blp.response(201, BudgetChangeSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], budget_id: str) -> Any:
        """Increase, reduce (with notice), recover, suspend, reinstate or end a budget"""
        return changes.change_budget(get_session(), budget_id=budget_id, actor=g.actor, **data)
