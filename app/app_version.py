"""The app version gate: old app builds are told to update instead of failing oddly.

The companion app sends `X-App-Version: 2.3.1` on every request. When that is below
MIN_APP_VERSION the API answers 426 `upgrade-required` with the minimum in the body, and
the app shows an "update the app" screen. Requests without the header (other clients,
back-office systems) are not gated; a malformed version is a 400.
"""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, request

from app.errors import problem_response

APP_VERSION_HEADER = "X-App-Version"
_VERSION = re.compile(r"^(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?(?:[-+][0-9A-Za-z.+-]{1,64})?$")
UNGATED_PATHS = ("/healthz", "/readyz", "/openapi.json", "/docs", "/problems")


def parse_app_version(raw: str) -> tuple[int, int, int] | None:
    """`2.3.1` (or `2.3`, `2`, `2.3.1-beta+45`) as a comparable tuple; None when malformed."""
    match = _VERSION.match(raw.strip())
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor or 0), int(patch or 0)


def _gate() -> Response | None:
    raw = request.headers.get(APP_VERSION_HEADER)
    if raw is None or request.path.startswith(UNGATED_PATHS):
        return None
    version = parse_app_version(raw)
    if version is None:
        return problem_response(
            "bad-request", detail=f"{APP_VERSION_HEADER} must look like 2.3.1, got {raw[:40]!r}."
        )
    minimum = current_app.config.get("MIN_APP_VERSION") or ""
    required = parse_app_version(minimum) if minimum else None
    if required is not None and version < required:
        return problem_response(
            "upgrade-required",
            detail=f"This version of the app ({raw}) is no longer supported. "
            f"Please update to version {minimum} or newer.",
            minimum_version=minimum,
        )
    return None


def init_app_version_gate(app: Flask) -> None:
    """Answer 426 to app builds older than MIN_APP_VERSION (refuses a malformed setting)."""
    minimum = app.config.get("MIN_APP_VERSION") or ""
    if minimum and parse_app_version(minimum) is None:
        from app.config import ConfigurationError

        raise ConfigurationError(f"MIN_APP_VERSION must look like 2.3.1, got {minimum!r}")
    app.before_request(_gate)
