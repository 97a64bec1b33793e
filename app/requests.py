"""Request hygiene for the JSON API: content type, body size, refused methods, and text
no database can store (a NUL character, which PostgreSQL refuses in any string)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request

from app.domain_errors import BadRequest, DomainError
from app.request_locals import current_request

NUL = "\x00"
# JSON can carry a NUL only as this escape (a raw control character is invalid JSON), so a
# body without it needs no walk through its parsed values.
_JSON_NUL = b"\\u0000"

_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Paths that take other body types: the OAuth endpoints (form-encoded, RFC 6749) and the
# account pages (HTML forms).
_NON_JSON_PREFIXES = ("/oauth/", "/accounts/")


class UnsupportedMediaType(DomainError):
    slug = "unsupported-media-type"


class MethodNotAllowed(DomainError):
    slug = "method-not-allowed"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _refuse_nul_characters(request: Request) -> None:
    if NUL in request.path or any(
        NUL in key or NUL in value for key, value in request.args.items(multi=True)
    ):
        raise BadRequest("The address contains a NUL character.")
    if (
        request.is_json
        and _JSON_NUL in request.get_data(cache=True)
        and _holds_nul(request.get_json(silent=True))
    ):
        raise BadRequest("The request body contains a NUL character (\\u0000).")


def _check_request() -> None:
    request = current_request()
    if request.method == "TRACE":
        raise MethodNotAllowed("TRACE is not supported.")
    _refuse_nul_characters(request)
    if request.method not in _BODY_METHODS or request.path.startswith(_NON_JSON_PREFIXES):
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json.")


def init_request_checks(app: Flask) -> None:
    """Refuse non-JSON bodies on the JSON API (415) and TRACE; size is MAX_CONTENT_LENGTH (413)."""
    app.before_request(_check_request)
