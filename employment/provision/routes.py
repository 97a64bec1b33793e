"""IPS service and specialist endpoints."""

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
from employment.provision import service
from employment.provision.schemas import (
    ServiceCreateSchema,
    ServiceQueryArgsSchema,
    ServiceSchema,
    ServiceUpdateSchema,
    SpecialistCreateSchema,
    SpecialistSchema,
    SpecialistUpdateSchema,
)


def _tagged(record: Any, version: int, record_id: str) -> tuple[Any, int, dict[str, str]]:
    return record, 200, {"ETag": version_etag(record_id, version)}


@blp.route("/services")
class Services(MethodView):
    @require_employment_read
    @blp.arguments(ServiceQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(ServiceSchema))
    @documents_problems(422)
    def get(self, args: dict[str, Any]) -> Any:
        """Find IPS services, e.g. those covering your postcode district."""
        return service.find_services(
            get_session(),
            actor=g.actor,
            postcode_district=args["postcode_district"],
            page=args["page"],
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE, roles=["provider_staff", "back_office"])
    @idempotent
    @blp.arguments(ServiceCreateSchema())
    @blp.response(201, ServiceSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Set up an IPS service run by your (verified) organisation."""
        created = service.create_service(get_session(), actor=g.actor, **data)
        return created, 201, {"ETag": version_etag(created.id, created.version)}


@blp.route("/services/<service_id>")
class ServiceItem(MethodView):
    @require_employment_read
    @blp.response(200, ServiceSchema)
    @documents_problems(404)
    def get(self, service_id: str) -> Any:
        """One IPS service."""
        found = service.get_service(get_session(), actor=g.actor, service_id=service_id)
        return _tagged(found, found.version, found.id)

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(ServiceUpdateSchema())
    @blp.response(200, ServiceSchema)
    @documents_problems(404, 412, 422, 428)
    def patch(self, data: dict[str, Any], service_id: str) -> Any:
        """Change a service's details, areas or caseload limit (send If-Match)."""
        updated = service.update_service(
            get_session(),
            actor=g.actor,
            service_id=service_id,
            if_match=if_match_tags(),
            changes=data,
        )
        return _tagged(updated, updated.version, updated.id)


@blp.route("/services/<service_id>/specialists")
class Specialists(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, page_schema(SpecialistSchema))
    @documents_problems(404, 422)
    def get(self, args: dict[str, Any], service_id: str) -> Any:
        """The service's employment specialists, each caseload shown against its limit."""
        return service.list_specialists(
            get_session(),
            actor=g.actor,
            service_id=service_id,
            page=args["page"],
            today=utcnow().date(),
        )

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @idempotent
    @blp.arguments(SpecialistCreateSchema())
    @blp.response(201, SpecialistSchema)
    @documents_problems(404, 409, 422)
    def post(self, data: dict[str, Any], service_id: str) -> Any:
        """Add a member of your staff to the service as an employment specialist."""
        created = service.add_specialist(
            get_session(), actor=g.actor, service_id=service_id, today=utcnow().date(), **data
        )
        return created, 201, {"ETag": version_etag(created["id"], created["version"])}


@blp.route("/specialists/<specialist_id>")
class SpecialistItem(MethodView):
    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.response(200, SpecialistSchema)
    @documents_problems(404)
    def get(self, specialist_id: str) -> Any:
        """One specialist and their caseload."""
        found = service.get_specialist(
            get_session(), actor=g.actor, specialist_id=specialist_id, today=utcnow().date()
        )
        return _tagged(found, found["version"], found["id"])

    @require_auth(Scope.EMPLOYMENT_MANAGE)
    @blp.arguments(SpecialistUpdateSchema())
    @blp.response(200, SpecialistSchema)
    @documents_problems(404, 412, 422, 428)
    def patch(self, data: dict[str, Any], specialist_id: str) -> Any:
        """Change a specialist's FTE or whether they take people (send If-Match)."""
        updated = service.update_specialist(
            get_session(),
            actor=g.actor,
            specialist_id=specialist_id,
            if_match=if_match_tags(),
            changes=data,
            today=utcnow().date(),
        )
        return _tagged(updated, updated["version"], updated["id"])
