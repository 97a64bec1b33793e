"""OpenAPI helpers: the problem+json components and decorators that document cross-cutting
behaviour (auth errors, idempotency and conditional headers) on each operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask_smorest import Api

from app.domain_errors import PROBLEM_TYPES

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM_STATUSES = (400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 426, 428, 429, 500, 503)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "Stable problem type URI"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    request_id = ma.fields.String()
    code = ma.fields.String(metadata={"description": "Machine-readable reason (rule violations)"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Field name to its validation messages"},
    )


class ProblemApi(Api):
    """flask-smorest's Api, answering every error as problem+json instead of its own shape."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_responses(self) -> None:
        """Our problem responses replace flask-smorest's default error components."""

    def _register_error_handlers(self) -> None:
        from app.errors import register_error_handlers

        register_error_handlers(self._app)


def problem_response_name(status: int) -> str:
    return f"Problem{status}"


# flask-smorest refers to its validation error response by this name on every operation
# that takes arguments; it is registered as our 422 problem.
SMOREST_VALIDATION_RESPONSE = "UNPROCESSABLE_ENTITY"


def register_problem_components(api: Api) -> None:
    """Add the Problem schema and one reusable response per error status to the spec."""
    api.spec.components.schema("Problem", schema=ProblemSchema)
    for status in PROBLEM_STATUSES:
        types = [slug for slug, (code, _, _) in PROBLEM_TYPES.items() if code == status]
        example_slug = types[0] if types else "bad-request"
        title = PROBLEM_TYPES.get(example_slug, (status, "Error", ""))[1]
        api.spec.components.response(
            problem_response_name(status),
            {
                "description": f"{title}. Problem types: "
                + ", ".join(f"`/problems/{t}`" for t in types),
                "content": {
                    "application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"},
                        "example": {
                            "type": f"/problems/{example_slug}",
                            "title": title,
                            "status": status,
                            "detail": PROBLEM_TYPES.get(example_slug, (0, "", ""))[2],
                        },
                    }
                },
            },
        )
    api.spec.components.response(
        SMOREST_VALIDATION_RESPONSE,
        {
            "description": "Validation error: see `errors` for each field",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        },
    )


def documents_problems(*statuses: int) -> Callable[[F], F]:
    """Record on a view that it can answer with these problem statuses."""

    def decorator(func: F) -> F:
        doc = func.__dict__.setdefault("_apidoc", {})
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        for status in statuses:
            refs = responses.setdefault(status, [])
            name = problem_response_name(status)
            if name not in refs:
                refs.append(name)
        return func

    return decorator


def documents_header(func: F, schema: type[ma.Schema]) -> F:
    """Record a request header (described by a one-field schema) on a view."""
    doc = func.__dict__.setdefault("_apidoc", {})
    doc.setdefault("arguments", {}).setdefault("parameters", []).append(
        {"in": "headers", "schema": schema, "required": False}
    )
    return func
