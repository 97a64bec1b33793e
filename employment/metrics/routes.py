"""Service measures (JSON and CSV), job-outcome rules and fidelity review endpoints."""

from __future__ import annotations

from typing import Any

from flask import Response, g
from flask.views import MethodView

from app.db import get_session, utcnow
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from employment.api import blp, require_employment_read
from employment.metrics import fidelity, service
from employment.metrics.measures import DEFINITIONS
from employment.metrics.schemas import (
    FidelityPrefillArgsSchema,
    FidelityPrefillSchema,
    FidelityReviewSchema,
    MetricsQueryArgsSchema,
    MetricsSchema,
    OutcomeRuleSchema,
)


@blp.route("/services/<service_id>/metrics")
class Metrics(MethodView):
    @require_employment_read
    @blp.arguments(MetricsQueryArgsSchema(), location="query")
    @blp.response(200, MetricsSchema)
    @blp.doc(description=f"For the service's staff and its commissioner's admins.\n\n{DEFINITIONS}")
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """The service's IPS measures for a period, whole and per specialist."""
        return service.service_metrics(get_session(), actor=g.actor, service_id=service_id, **args)


@blp.route("/services/<service_id>/metrics.csv")
class MetricsCsv(MethodView):
    @require_employment_read
    @blp.arguments(MetricsQueryArgsSchema(), location="query")
    @blp.response(200, content_type="text/csv", description="One row per measure and scope.")
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """The same measures as CSV (service rows, then one block per specialist)."""
        metrics = service.service_metrics(
            get_session(), actor=g.actor, service_id=service_id, **args
        )
        filename = f"ips-metrics-{args['period_start']}-{args['period_end']}.csv"
        return Response(
            service.metrics_csv(metrics),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


@blp.route("/services/<service_id>/outcome-rules")
class OutcomeRules(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(OutcomeRuleSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """The funders' job-outcome definitions used by the measures."""
        return fidelity.list_outcome_rules(
            get_session(), actor=g.actor, service_id=service_id, page=args["page"]
        )

    @require_employment_read
    @idempotent
    @blp.arguments(OutcomeRuleSchema())
    @blp.response(201, OutcomeRuleSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], service_id: str) -> Any:
        """Add a job-outcome definition (hours per week x weeks within a window x pay)."""
        return fidelity.add_outcome_rule(
            get_session(), actor=g.actor, service_id=service_id, **data
        ), 201


@blp.route("/services/<service_id>/fidelity-reviews")
class FidelityReviews(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(FidelityReviewSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """The service's IPS-25 fidelity reviews, newest first."""
        return fidelity.list_reviews(
            get_session(), actor=g.actor, service_id=service_id, page=args["page"]
        )

    @require_employment_read
    @idempotent
    @blp.arguments(FidelityReviewSchema())
    @blp.response(201, FidelityReviewSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any], service_id: str) -> Any:
        """Record a fidelity review: 25 items scored 1-5; the total and band are worked out."""
        return fidelity.record_review(
            get_session(), actor=g.actor, service_id=service_id, **data
        ), 201


@blp.route("/services/<service_id>/fidelity-reviews/prefill")
class FidelityPrefill(MethodView):
    @require_employment_read
    @blp.arguments(FidelityPrefillArgsSchema(), location="query")
    @blp.response(200, FidelityPrefillSchema)
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """Suggested scores for the IPS-25 items the records can measure (12 months to as_of)."""
        return fidelity.prefill(
            get_session(),
            actor=g.actor,
            service_id=service_id,
            as_of=args["as_of"] or utcnow().date(),
        )
