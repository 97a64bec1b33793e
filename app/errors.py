"""Every error leaves the API as RFC 9457 application/problem+json with a stable `type`.

Domain errors raised by services, HTTP errors from Flask and webargs (404, 405, 413,
422...) and unexpected exceptions all pass through `problem_response`. A 500 says nothing
about internals; the log line with the same request id has the traceback.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, current_app, g, json, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from app.domain_errors import PROBLEM_TYPES, DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger("app.errors")

_STATUS_TO_SLUG = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    426: "upgrade-required",
    428: "precondition-required",
    429: "rate-limited",
    503: "service-unavailable",
}


def problem_type_uri(slug: str) -> str:
    """The stable `type` URI for a problem slug."""
    base = current_app.config.get("PROBLEM_TYPE_BASE", "/problems/")
    return f"{base}{slug}"


def problem_response(
    slug: str,
    *,
    status: int | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """Build a problem+json response for the given problem slug."""
    default_status, title, description = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {
        "type": problem_type_uri(slug),
        "title": title,
        "status": status or default_status,
        "detail": detail or description,
        "instance": request.path if request else None,
    }
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v is not None})
    response = Response(json.dumps(body), status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_errors(messages: Any) -> dict[str, Any]:
    """Flatten webargs' {location: {field: [...]}} into {field: [...]}."""
    if not isinstance(messages, dict):
        return {"_request": messages}
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            for name, msgs in fields.items():
                flat[str(name)] = msgs
        else:
            flat[str(location)] = fields
    return flat


def render_http_exception(error: HTTPException) -> Response:
    """Problem+json for werkzeug/webargs HTTP errors."""
    code = error.code or 500
    if code >= 500:
        return render_unexpected(error)
    slug = _STATUS_TO_SLUG.get(code, "bad-request")
    headers: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    extensions: dict[str, Any] = {}
    detail = None
    if "messages" in data or "errors" in data:
        extensions["errors"] = _field_errors(data.get("errors") or data.get("messages"))
    if data.get("message"):
        detail = str(data["message"])
    if isinstance(data.get("headers"), dict):
        headers.update(data["headers"])
    if code == 405:
        valid = getattr(error, "valid_methods", None)
        if valid:
            headers["Allow"] = ", ".join(sorted(valid))
    if code == 400 and not detail and error.description:
        detail = error.description if "JSON" in str(error.description) else None
    if code == 429:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
    return problem_response(slug, status=code, detail=detail, headers=headers, **extensions)


def render_domain_error(error: DomainError) -> Response:
    """Problem+json for an error a service raised."""
    headers = dict(error.extensions.pop("headers", {}) or {})
    return problem_response(error.slug, detail=error.detail, headers=headers, **error.extensions)


def render_unexpected(error: BaseException) -> Response:
    """A 500 that reveals nothing; the traceback goes to the log with the request id."""
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, DBAPIError) and original.connection_invalidated:
        # The database dropped the connection (a restart or failover). SQLAlchemy has
        # already discarded the pool's connections, so the retry gets fresh ones; nothing
        # was committed by this request.
        log.warning("database connection lost", extra={"error_class": type(original).__name__})
        return problem_response(
            "service-unavailable",
            detail="The database connection was lost; retry the request.",
            headers={"Retry-After": "1"},
        )
    if isinstance(original, DBAPIError):
        # The database's own message quotes the values (an NHS number in a duplicate-key
        # error, say): log where it happened and the SQLSTATE, never the message.
        log.error(
            "unhandled database error",
            extra={
                "error_class": type(original.orig).__name__,
                "sqlstate": getattr(original.orig, "sqlstate", None),
                "traceback": "".join(traceback.format_tb(original.__traceback__)),
            },
        )
    else:
        log.error(
            "unhandled exception",
            exc_info=(type(original), original, original.__traceback__),
        )
    return problem_response("internal-error")


def register_error_handlers(app: Flask) -> None:
    """Route every kind of error to a problem+json response."""
    app.register_error_handler(DomainError, render_domain_error)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(Exception, render_unexpected)
