"""Liveness and readiness probes for the process supervisor and load balancer."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_session
from app.schema_migrations import current_revisions, head_revisions

blp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@blp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """The database answers and its schema is at the newest migration."""
    checks: dict[str, str] = {}
    try:
        connection = get_session().connection()
        connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        at = set(current_revisions(connection))
    except SQLAlchemyError:
        log.warning("readiness: database unreachable", exc_info=True)
        checks["database"] = "unreachable"
        at = set()
    heads = set(head_revisions())
    checks["migrations"] = "ok" if at == heads else "behind"
    ready = all(v == "ok" for v in checks.values())
    response = jsonify(status="ready" if ready else "not ready", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    if not ready:
        current_app.logger.warning("readiness check failed", extra={"checks": checks})
    return response
