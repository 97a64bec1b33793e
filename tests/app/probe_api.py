"""A small test-only API over commissioners that exercises every cross-cutting mechanism
(auth, idempotency, pagination, ETag/If-Match, audit, validation) the way domain routes do."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import get_session
from app.domain_errors import NotFound
from app.etag import if_match_tags
from app.idempotency import idempotent, idempotent_in_steps
from app.pagination import PageArgsSchema, PageRequest, keyset_page, page_schema
from app.versioning import check_if_match, version_etag
from auth.guard import require_auth
from auth.models import Commissioner

blp = Blueprint("probe", __name__, url_prefix="/v1/_probe")


class CommissionerSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    id = ma.fields.String(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["icb", "council"]))


def _version(commissioner: Commissioner) -> int:
    return int(commissioner.updated_at.timestamp() * 1_000_000)


def _get(session: Session, commissioner_id: str) -> Commissioner:
    commissioner = session.get(Commissioner, commissioner_id)
    if commissioner is None:
        raise NotFound()
    return commissioner


@blp.route("/commissioners")
class Commissioners(MethodView):
    @require_auth("profile")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(CommissionerSchema))
    def get(self, args: dict[str, Any]) -> Any:
        page: PageRequest = args["page"]
        return keyset_page(
            get_session(), select(Commissioner), keys=[Commissioner.id], page=page, scope="probe"
        )

    @require_auth("profile")
    @idempotent
    @blp.arguments(CommissionerSchema)
    @blp.response(201, CommissionerSchema)
    def post(self, data: dict[str, Any]) -> Any:
        session = get_session()
        commissioner = Commissioner(**data)
        session.add(commissioner)
        session.flush()
        record_audit(
            session,
            actor=g.actor,
            action="commissioner.create",
            record_type="commissioner",
            record_id=commissioner.id,
        )
        session.commit()
        return commissioner


def _create_then_die(data: dict[str, Any]) -> Any:
    """Commits a commissioner, then fails as a worker killed before it answers would."""
    session = get_session()
    session.add(Commissioner(**data))
    session.commit()
    raise RuntimeError("the worker died after its work committed")


# Not part of `blp`: the contract tests fuzz every probe route and expect no 500s.
dying_blp = Blueprint("probe_dying", __name__, url_prefix="/v1/_probe")


@dying_blp.route("/commissioners/dying")
class DyingCommissioners(MethodView):
    @require_auth("profile")
    @idempotent
    @dying_blp.arguments(CommissionerSchema)
    @dying_blp.response(201, CommissionerSchema)
    def post(self, data: dict[str, Any]) -> Any:
        return _create_then_die(data)


@dying_blp.route("/commissioners/dying-in-steps")
class DyingInStepsCommissioners(MethodView):
    @require_auth("profile")
    @idempotent_in_steps
    @dying_blp.arguments(CommissionerSchema)
    @dying_blp.response(201, CommissionerSchema)
    def post(self, data: dict[str, Any]) -> Any:
        return _create_then_die(data)


@blp.route("/commissioners/<commissioner_id>")
class CommissionerItem(MethodView):
    @require_auth("profile")
    @blp.response(200, CommissionerSchema)
    def get(self, commissioner_id: str) -> Any:
        commissioner = _get(get_session(), commissioner_id)
        return commissioner, 200, {"ETag": version_etag(commissioner.id, _version(commissioner))}

    @require_auth("profile")
    @blp.arguments(CommissionerSchema)
    @blp.response(200, CommissionerSchema)
    def put(self, data: dict[str, Any], commissioner_id: str) -> Any:
        session = get_session()
        commissioner = _get(session, commissioner_id)
        check_if_match(if_match_tags(), commissioner.id, _version(commissioner))
        commissioner.name = data["name"]
        commissioner.kind = data["kind"]
        session.commit()
        return commissioner, 200, {"ETag": version_etag(commissioner.id, _version(commissioner))}


@blp.route("/explode")
class Explode(MethodView):
    def get(self) -> Any:
        raise RuntimeError("secret internal detail: password=hunter2")
