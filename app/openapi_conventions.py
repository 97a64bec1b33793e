"""Responses every operation can give because of cross-cutting behaviour, documented once.

The mechanisms decide these answers, not the routes, so this apispec plugin documents
them on every operation as the spec is built:
- 429 `rate-limited` on every operation (app/rate_limits.py);
- 426 `upgrade-required` (and 400 for a malformed X-App-Version) on every operation under
  /v1 (app/app_version.py);
- 422 `validation-error` and 400 on every operation that reads a body or query arguments
  (a bad cursor or unreadable JSON), 413 and 415 on those with a body (app/requests.py);
- 409 and 422 on every operation taking `Idempotency-Key` (app/idempotency.py);
- 404 on every operation addressing a record by id, in its path or as a `..._id` filter
  (a record that is not the caller's is a 404 too, auth/access.py);
- 412 and 428 on every operation taking `If-Match` (app/etag.py); every PUT and PATCH
  takes it (README: updates need If-Match), documented as a required header.
flask-smorest names its own 422 after the HTTP status (`UNPROCESSABLE_ENTITY`); those
references are pointed at our problem responses instead.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import BasePlugin

from app.openapi import PROBLEM_STATUSES, problem_response_name

GATED_PATH_PREFIX = "/v1"
_STATUS_NAMES = {HTTPStatus(s).name: s for s in PROBLEM_STATUSES}


UPDATE_METHODS = ("put", "patch")
IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string", "maxLength": 200},
    "description": "The ETag you last read: updates refuse to overwrite a newer version.",
}


def _parameters(operation: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for parameter in operation.get("parameters") or []:
        if isinstance(parameter, dict):
            found.append((str(parameter.get("in", "")), str(parameter.get("name", "")).lower()))
    return found


class CrossCuttingResponsesPlugin(BasePlugin):
    """Adds the problem responses that the cross-cutting mechanisms can give."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if isinstance(response, str) and response in _STATUS_NAMES:
                    responses[code] = problem_response_name(_STATUS_NAMES[response])
            if method in UPDATE_METHODS and ("header", "if-match") not in _parameters(operation):
                operation.setdefault("parameters", []).append(dict(IF_MATCH_PARAMETER))
            parameters = _parameters(operation)
            statuses = [429]
            if path and path.startswith(GATED_PATH_PREFIX):
                statuses += [400, 426]
            if (path and "{" in path) or any(
                where == "query" and name.endswith("_id") for where, name in parameters
            ):
                statuses.append(404)
            if "requestBody" in operation:
                statuses += [400, 413, 415, 422]
            if any(where == "query" for where, _ in parameters):
                statuses += [400, 422]
            if ("header", "idempotency-key") in parameters:
                statuses += [409, 422]
            if ("header", "if-match") in parameters:
                statuses += [412, 428]
            present = {str(code) for code in responses}
            for status in statuses:
                if str(status) not in present:
                    responses[str(status)] = problem_response_name(status)
                    present.add(str(status))
