"""A test-only syncable collection (the people a caller can see), adopting app/sync.py the
way a person-owned domain collection does: SyncArgsSchema in, sync_schema out, deletions
filtered to the caller's people. (Devices, /v1/devices, adopt it for real, deletes included.)"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.db import get_session
from app.openapi import documents_problems
from app.sync import SyncArgsSchema, Tombstone, sync_page, sync_schema
from auth.access import visible_people_clause
from auth.guard import require_auth
from auth.models import Person

blp = Blueprint("sync_sample", __name__, url_prefix="/v1/_sync")


class PersonSchema(ma.Schema):
    id = ma.fields.String(dump_only=True)
    given_name = ma.fields.String(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True, format="iso")


@blp.route("/people")
class People(MethodView):
    @require_auth("profile")
    @blp.arguments(SyncArgsSchema, location="query")
    @blp.response(200, sync_schema(PersonSchema))
    @documents_problems(422)
    def get(self, args: dict[str, Any]) -> Any:
        """The people you can see, changed since `updated_since`."""
        actor = g.actor
        return sync_page(
            get_session(),
            select(Person).where(visible_people_clause(actor, Person.id)),
            updated_at=Person.updated_at,
            id=Person.id,
            page=args["page"],
            scope="people",
            updated_since=args["updated_since"],
            record_type="person",
            deleted_visible=visible_people_clause(actor, Tombstone.owner_id),
            overlap_seconds=args["sync_overlap_seconds"],
        )
