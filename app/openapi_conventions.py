"""Responses every operation can give because of cross-cutting behaviour, documented once.

The rate limiter can answer any request with 429 and the app version gate any request
under /v1 with 426, so rather than each route repeating it, this apispec plugin adds
both to every operation as the spec is built.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

from app.openapi import problem_response_name

GATED_PATH_PREFIX = "/v1"


class CrossCuttingResponsesPlugin(BasePlugin):
    """Adds 429 (rate limited) to every operation and 426 (update the app) under /v1."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = [429]
            if path and path.startswith(GATED_PATH_PREFIX):
                statuses.append(426)
            present = {str(code) for code in responses}
            for status in statuses:
                if str(status) not in present:
                    responses[str(status)] = problem_response_name(status)
