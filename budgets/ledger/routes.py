"""Ledger endpoints: a budget's postings and its monthly statement (JSON or CSV)."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.domain_errors import ValidationFailed
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from auth.guard import require_auth
from auth.roles import Scope
from budgets.ledger import statements
from budgets.ledger.schemas import LedgerEntrySchema, StatementArgsSchema, StatementSchema

blp = Blueprint(
    "ledger",
    __name__,
    url_prefix="/v1/budgets",
    description="The budget ledger: append-only postings and monthly statements.",
)


@blp.route("/<budget_id>/ledger")
class LedgerEntries(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(LedgerEntrySchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any], budget_id: str) -> Any:
        """Every posting on the budget, oldest first"""
        return statements.list_entries(
            get_session(), budget_id=budget_id, actor=g.actor, page=args["page"]
        )


@blp.route("/<budget_id>/statements/<int:year>/<int:month>")
class MonthlyStatement(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(StatementArgsSchema(), location="query")
    @blp.response(200, StatementSchema)
    @blp.alt_response(200, success=True, content_type="text/csv", description="As CSV")
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], budget_id: str, year: int, month: int) -> Any:
        """Opening balances, each transaction and closing balances for one month"""
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise ValidationFailed({"month": ["Give a real year and month (1-12)."]})
        statement = statements.monthly_statement(
            get_session(), budget_id=budget_id, actor=g.actor, year=year, month=month
        )
        if args["format"] == "csv":
            return Response(
                statements.statement_csv(statement),
                mimetype="text/csv",
                headers={
                    "Content-Disposition": (
                        f'attachment; filename="statement-{statement.month}.csv"'
                    )
                },
            )
        return statement
