"""Back-office client endpoints under /v1 (owners of a provider organisation)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.db import get_session
from app.openapi import documents_problems
from app.pagination import page_schema
from auth.backoffice import service
from auth.backoffice.schemas import (
    BackOfficeClientCreateSchema,
    BackOfficeClientQueryArgsSchema,
    BackOfficeClientSchema,
    NewBackOfficeClientSchema,
)
from auth.guard import require_auth
from auth.roles import Role, Scope

blp = Blueprint(
    "back_office_clients",
    __name__,
    url_prefix="/v1",
    description="Your organisation's back-office systems (client credentials)",
)


@blp.route("/back-office-clients")
class BackOfficeClients(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=[Role.PROVIDER_STAFF])
    @blp.arguments(BackOfficeClientQueryArgsSchema(), location="query")
    @blp.response(200, page_schema(BackOfficeClientSchema))
    @documents_problems(400, 404, 422)
    def get(self, args: dict[str, Any]) -> Any:
        """The back-office clients of an organisation you own."""
        return service.list_clients(
            get_session(), actor=g.actor, organisation_id=args["organisation_id"], page=args["page"]
        )

    @require_auth(Scope.PROVIDERS_MANAGE, roles=[Role.PROVIDER_STAFF])
    @blp.arguments(BackOfficeClientCreateSchema())
    @blp.response(201, NewBackOfficeClientSchema)
    @documents_problems(404, 422)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a back-office client; its secret is in this response only."""
        return service.create_client(get_session(), actor=g.actor, **data)


@blp.route("/back-office-clients/<client_id>/revoke")
class BackOfficeClientRevocation(MethodView):
    @require_auth(Scope.PROVIDERS_MANAGE, roles=[Role.PROVIDER_STAFF])
    @blp.response(200, BackOfficeClientSchema)
    @documents_problems(404)
    def post(self, client_id: str) -> Any:
        """Switch a back-office client off; every token it holds stops working."""
        return service.revoke_client(get_session(), actor=g.actor, client_id=client_id)
