"""Deprecating an operation: marked in the contract with its sunset date, and announced on
every response (`Deprecation` and `Sunset` headers, RFC 9745 / RFC 8594) so app builds can
warn their developers long before the operation is removed.

The breaking-change checker lets an operation be removed only once its sunset has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import format_datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import make_response

F = TypeVar("F", bound=Callable[..., Any])


def deprecated(*, sunset: date, replacement: str | None = None) -> Callable[[F], F]:
    """Mark a view deprecated until `sunset`, naming what to use instead."""
    sunset_at = datetime(sunset.year, sunset.month, sunset.day, tzinfo=UTC)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            response = make_response(view(*args, **kwargs))
            response.headers["Deprecation"] = "true"
            response.headers["Sunset"] = format_datetime(sunset_at, usegmt=True)
            if replacement:
                response.headers["Link"] = f'<{replacement}>; rel="successor-version"'
            return response

        doc = cast(Any, wrapper).__dict__.setdefault("_apidoc", {})
        manual = doc.setdefault("manual_doc", {})
        manual["deprecated"] = True
        manual["x-sunset"] = sunset.isoformat()
        if replacement:
            manual["description"] = (
                f"Deprecated: removed after {sunset.isoformat()}. Use `{replacement}` instead."
            )
        return cast(F, wrapper)

    return decorator
