"""Subject access export and audit trail endpoints."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.data_protection import audit_trail, export
from app.data_protection.inventory import subject_for_person, subject_for_user
from app.data_protection.schemas import (
    AuditEntrySchema,
    AuditSearchArgsSchema,
    ExportSchema,
    MyAuditTrailArgsSchema,
)
from app.db import get_session
from app.domain_errors import NotFound
from app.openapi import documents_problems
from app.pagination import Page, page_schema
from auth.access import require_person_access
from auth.guard import require_auth
from auth.roles import Role, Scope

blp = Blueprint(
    "data-protection",
    __name__,
    url_prefix="/v1",
    description="Your data: export everything we hold, and see who has looked at it",
)


def _entries_page(page: Page[Any]) -> dict[str, Any]:
    names = audit_trail.actor_names(get_session(), page.items)
    items = []
    for entry in page.items:
        name, roles = names.get(entry.actor_user_id or "", (None, []))
        items.append(
            {
                **{k: getattr(entry, k) for k in AuditEntrySchema().fields if hasattr(entry, k)},
                "actor_name": name,
                "actor_roles": roles,
            }
        )
    return {"items": items, "next_cursor": page.next_cursor}


@blp.route("/me/export")
class MyExport(MethodView):
    @require_auth(Scope.PROFILE)
    @blp.response(200, ExportSchema)
    def get(self) -> dict[str, Any]:
        """Everything we hold about you, as JSON (with the ledger also as CSV)."""
        if g.actor.user_id is None:
            raise NotFound("A client acting for itself has no personal data.")
        session = get_session()
        return export.build_export(
            session, subject=subject_for_user(session, g.actor.user_id), actor=g.actor
        )


@blp.route("/people/<person_id>/export")
class PersonExport(MethodView):
    @require_auth(Scope.AUDIT_READ, roles=[Role.ADMIN])
    @blp.response(200, ExportSchema)
    @documents_problems(404)
    def get(self, person_id: str) -> dict[str, Any]:
        """Everything held about one of your commissioner's people (subject access request)."""
        session = get_session()
        require_person_access(session, g.actor, person_id)
        return export.build_export(
            session, subject=subject_for_person(session, person_id), actor=g.actor
        )


@blp.route("/me/audit-trail")
class MyAuditTrail(MethodView):
    @require_auth(Scope.PROFILE)
    @blp.arguments(MyAuditTrailArgsSchema(), location="query")
    @blp.response(200, page_schema(AuditEntrySchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Who has looked at or changed your records (or those of people you act for)."""
        page = audit_trail.list_audit_trail_for_me(
            get_session(), actor=g.actor, person_id=args["person_id"], page=args["page"]
        )
        return _entries_page(page)


@blp.route("/audit-entries")
class AuditSearch(MethodView):
    @require_auth(Scope.AUDIT_READ, roles=[Role.ADMIN])
    @blp.arguments(AuditSearchArgsSchema(), location="query")
    @blp.response(200, page_schema(AuditEntrySchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search the audit log by person or record (your commissioner's people only)."""
        page = audit_trail.search_audit_log(
            get_session(),
            actor=g.actor,
            person_id=args["person_id"],
            record_type=args["record_type"],
            record_id=args["record_id"],
            page=args["page"],
        )
        return _entries_page(page)
