"""Employer, employer-contact, job and follow-along endpoints."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from app.db import get_session, utcnow
from app.etag import if_match_tags
from app.idempotency import idempotent
from app.openapi import documents_problems
from app.pagination import PageArgsSchema, page_schema
from app.versioning import version_etag
from auth.guard import require_auth
from auth.roles import Scope
from employment.api import blp, require_employment_read
from employment.jobs import employers, follow_along, service
from employment.jobs.schemas import (
    EmployerContactQueryArgsSchema,
    EmployerContactSchema,
    EmployerSchema,
    FollowAlongQueryArgsSchema,
    FollowAlongSchema,
    JobSchema,
    JobUpdateSchema,
)


def _tagged(job: dict[str, Any], status: int = 200) -> tuple[dict[str, Any], int, dict[str, str]]:
    return job, status, {"ETag": version_etag(job["id"], job["version"])}


@blp.route("/services/<service_id>/employers")
class Employers(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(EmployerSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """Employers the service works with."""
        return employers.list_employers(
            get_session(), actor=g.actor, service_id=service_id, page=args["page"]
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(EmployerSchema())
    @blp.response(201, EmployerSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], service_id: str) -> Any:
        """Add an employer."""
        return employers.add_employer(
            get_session(), actor=g.actor, service_id=service_id, **data
        ), 201


@blp.route("/services/<service_id>/employer-contacts")
class EmployerContacts(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(EmployerContactQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(EmployerContactSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """Employer contacts (job development), optionally one specialist's."""
        return employers.list_employer_contacts(
            get_session(), actor=g.actor, service_id=service_id, **args
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(EmployerContactSchema())
    @blp.response(201, EmployerContactSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any], service_id: str) -> Any:
        """Log a contact with an employer, linked to the people it was for."""
        return employers.log_employer_contact(
            get_session(), actor=g.actor, service_id=service_id, **data
        ), 201


@blp.route("/referrals/<referral_id>/jobs")
class Jobs(MethodView):
    @require_employment_read
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(JobSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], referral_id: str) -> Any:
        """The person's jobs."""
        return service.list_jobs(
            get_session(), actor=g.actor, referral_id=referral_id, page=args["page"]
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(JobSchema())
    @blp.response(201, JobSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], referral_id: str) -> Any:
        """Record a job start (competitive employment is judged from the dated minimum wage)."""
        return _tagged(
            service.record_job(get_session(), actor=g.actor, referral_id=referral_id, **data), 201
        )


@blp.route("/jobs/<job_id>")
class JobItem(MethodView):
    @require_employment_read
    @blp.response(200, JobSchema)
    @documents_problems(404)
    def get(self, job_id: str) -> Any:
        """One job."""
        return _tagged(service.get_job(get_session(), actor=g.actor, job_id=job_id))

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(JobUpdateSchema())
    @blp.response(200, JobSchema)
    @documents_problems(404, 412, 422, 428)
    def patch(self, data: dict[str, Any], job_id: str) -> Any:
        """Record 4 paid hours, new hours or pay, or the end of the job (send If-Match)."""
        return _tagged(
            service.update_job(
                get_session(),
                actor=g.actor,
                job_id=job_id,
                if_match=if_match_tags(),
                changes=data,
            )
        )


@blp.route("/services/<service_id>/follow-along")
class FollowAlong(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(FollowAlongQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(FollowAlongSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """People in work and when in-work support is next due; overdue ones flagged.
        With `overdue_only` a page can hold fewer items than `limit`."""
        return follow_along.follow_along(
            get_session(),
            actor=g.actor,
            service_id=service_id,
            as_of=args["as_of"] or utcnow().date(),
            overdue_only=args["overdue_only"],
            page=args["page"],
        )
