"""Care and support plan endpoints: write, check, submit, decide, reconsider, revise."""

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
from app.sync import SyncArgsSchema, sync_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Role, Scope
from budgets.plans import lines, reading, rules, service, workflow
from budgets.plans.models import CarePlan
from budgets.plans.schemas import (
    ApproveSchema,
    DecisionSchema,
    PlanCheckSchema,
    PlanCreateSchema,
    PlanLineCreateSchema,
    PlanLineUpdateSchema,
    PlanSchema,
    PlanUpdateSchema,
    PurchaseCheckSchema,
    ReconsiderationAnswerSchema,
    ReconsiderationSchema,
    ReturnSchema,
)

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/v1",
    description="Care and support plans: outcomes in the person's words, lines, rule checks, "
    "and the broker's decisions. Changes need If-Match with the plan's ETag.",
)

_WRITERS = [Role.PERSON, Role.REPRESENTATIVE, Role.BROKER]


def _tagged(plan: CarePlan, status: int = 200) -> tuple[CarePlan, int, dict[str, str]]:
    return plan, status, {"ETag": version_etag(plan.id, plan.version)}


@blp.route("/budgets/<budget_id>/plans")
class BudgetPlans(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(SyncArgsSchema(), location="query")
    @blp.response(200, sync_schema(PlanSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any], budget_id: str) -> Any:
        """Every version of the budget's plan, newest first (delta sync with
        `updated_since`: oldest change first)"""
        return service.list_plan_versions(
            get_session(),
            budget_id=budget_id,
            actor=g.actor,
            page=args["page"],
            updated_since=args["updated_since"],
            sync_overlap_seconds=args["sync_overlap_seconds"],
        )

    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @idempotent
    @blp.arguments(PlanCreateSchema())
    @blp.response(201, PlanSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], budget_id: str) -> Any:
        """Start a draft plan"""
        return _tagged(
            service.create_plan(get_session(), budget_id=budget_id, actor=g.actor, **data), 201
        )


@blp.route("/budgets/<budget_id>/can-buy")
class CanBuy(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(PurchaseCheckSchema())
    @blp.response(200, PlanCheckSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any], budget_id: str) -> Any:
        """Can this be bought from this budget and stream? Reasons if not (changes nothing)"""
        findings = lines.check_purchase(get_session(), budget_id=budget_id, actor=g.actor, **data)
        return {"ok": not findings, "findings": rules.findings_view(findings)}


@blp.route("/plans/<plan_id>")
class PlanItem(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.response(200, PlanSchema)
    @documents_problems(404)
    def get(self, plan_id: str) -> Any:
        """One plan version"""
        plan = reading.read_plan(get_session(), plan_id=plan_id, actor=g.actor)
        return plan, 200, {"ETag": version_etag(plan["id"], plan["version"])}

    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @blp.arguments(PlanUpdateSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def patch(self, data: dict[str, Any], plan_id: str) -> Any:
        """Change a draft's outcomes, risks or review arrangements"""
        return _tagged(
            service.update_plan(
                get_session(), plan_id=plan_id, actor=g.actor, if_match=if_match_tags(), **data
            )
        )


@blp.route("/plans/<plan_id>/lines")
class PlanLines(MethodView):
    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @idempotent
    @blp.arguments(PlanLineCreateSchema())
    @blp.response(201, PlanSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Add a line (refused with reason codes if it breaks a rule)"""
        plan, _ = lines.add_line(get_session(), plan_id=plan_id, actor=g.actor, values=data)
        return _tagged(plan, 201)


@blp.route("/plans/<plan_id>/lines/<line_id>")
class PlanLineItem(MethodView):
    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @blp.arguments(PlanLineUpdateSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def patch(self, data: dict[str, Any], plan_id: str, line_id: str) -> Any:
        """Change a line of a draft (rules checked again)"""
        plan, _ = lines.update_line(
            get_session(),
            plan_id=plan_id,
            line_id=line_id,
            actor=g.actor,
            if_match=if_match_tags(),
            values=data,
        )
        return _tagged(plan)

    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 428)
    def delete(self, plan_id: str, line_id: str) -> Any:
        """Remove a line from a draft"""
        return _tagged(
            lines.delete_line(
                get_session(),
                plan_id=plan_id,
                line_id=line_id,
                actor=g.actor,
                if_match=if_match_tags(),
            )
        )


@blp.route("/plans/<plan_id>/lines/<line_id>/household-agreement")
class HouseholdAgreement(MethodView):
    @require_auth(Scope.BUDGETS_MANAGE, roles=[Role.ADMIN])
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 428)
    def post(self, plan_id: str, line_id: str) -> Any:
        """Record the commissioner's agreement to pay a family member in the household"""
        return _tagged(
            lines.record_household_agreement(
                get_session(),
                plan_id=plan_id,
                line_id=line_id,
                actor=g.actor,
                if_match=if_match_tags(),
            )
        )


@blp.route("/plans/<plan_id>/check")
class PlanCheck(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.response(200, PlanCheckSchema)
    @documents_problems(404)
    def post(self, plan_id: str) -> Any:
        """Every rule the plan would break if submitted now (changes nothing)"""
        findings = service.check_plan(get_session(), plan_id=plan_id, actor=g.actor)
        return {"ok": not findings, "findings": rules.findings_view(findings)}


@blp.route("/plans/<plan_id>/submit")
class PlanSubmit(MethodView):
    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def post(self, plan_id: str) -> Any:
        """Send the draft to the broker"""
        return _tagged(
            workflow.submit_plan(
                get_session(), plan_id=plan_id, actor=g.actor, if_match=if_match_tags()
            )
        )


@blp.route("/plans/<plan_id>/approve")
class PlanApprove(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(ApproveSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Approve: the plan becomes active and supersedes the previous version"""
        return _tagged(
            workflow.approve_plan(
                get_session(), plan_id=plan_id, actor=g.actor, if_match=if_match_tags(), **data
            )
        )


@blp.route("/plans/<plan_id>/decline")
class PlanDecline(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(ReturnSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Decline, with a reason (and per-line comments)"""
        return _tagged(
            workflow.return_plan(
                get_session(),
                plan_id=plan_id,
                actor=g.actor,
                if_match=if_match_tags(),
                kind="declined",
                **data,
            )
        )


@blp.route("/plans/<plan_id>/request-changes")
class PlanRequestChanges(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(ReturnSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Return the plan for changes, with a reason (and per-line comments)"""
        return _tagged(
            workflow.return_plan(
                get_session(),
                plan_id=plan_id,
                actor=g.actor,
                if_match=if_match_tags(),
                kind="changes_requested",
                **data,
            )
        )


@blp.route("/plans/<plan_id>/reconsideration")
class PlanReconsideration(MethodView):
    @require_auth(Scope.PLANS_WRITE, roles=[Role.PERSON, Role.REPRESENTATIVE])
    @blp.arguments(ReconsiderationSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Ask the broker to reconsider a decline"""
        return _tagged(
            workflow.request_reconsideration(
                get_session(), plan_id=plan_id, actor=g.actor, if_match=if_match_tags(), **data
            )
        )


@blp.route("/plans/<plan_id>/reconsideration-answer")
class PlanReconsiderationAnswer(MethodView):
    @require_auth(Scope.PLANS_APPROVE, roles=[Role.BROKER])
    @blp.arguments(ReconsiderationAnswerSchema())
    @blp.response(200, PlanSchema)
    @documents_problems(404, 409, 412, 422, 428)
    def post(self, data: dict[str, Any], plan_id: str) -> Any:
        """Answer a reconsideration with reasons: approve, or uphold the decline"""
        return _tagged(
            workflow.answer_reconsideration(
                get_session(), plan_id=plan_id, actor=g.actor, if_match=if_match_tags(), **data
            )
        )


@blp.route("/plans/<plan_id>/revisions")
class PlanRevisions(MethodView):
    @require_auth(Scope.PLANS_WRITE, roles=_WRITERS)
    @idempotent
    @blp.response(201, PlanSchema)
    @documents_problems(404, 409)
    def post(self, plan_id: str) -> Any:
        """Start a new draft version from this one"""
        return _tagged(service.revise_plan(get_session(), plan_id=plan_id, actor=g.actor), 201)


@blp.route("/plans/<plan_id>/decisions")
class PlanDecisions(MethodView):
    @require_auth(Scope.BUDGETS_READ)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(DecisionSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any], plan_id: str) -> Any:
        """Submission, decisions and reconsideration of this version, oldest first"""
        return workflow.list_decisions(
            get_session(), plan_id=plan_id, actor=g.actor, page=args["page"]
        )
