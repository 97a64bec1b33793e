"""Request hygiene for the JSON API: content type, body size and refused methods."""

from __future__ import annotations

from flask import Flask, request

from app.domain_errors import DomainError

_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Paths that take other body types: the OAuth endpoints (form-encoded, RFC 6749) and the
# account pages (HTML forms).
_NON_JSON_PREFIXES = ("/oauth/", "/accounts/")


class UnsupportedMediaType(DomainError):
    slug = "unsupported-media-type"


class MethodNotAllowed(DomainError):
    slug = "method-not-allowed"


def _check_request() -> None:
    if request.method == "TRACE":
        raise MethodNotAllowed("TRACE is not supported.")
    if request.method not in _BODY_METHODS or request.path.startswith(_NON_JSON_PREFIXES):
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if has_body and not request.is_json:
        raise UnsupportedMediaType("Send the request body as application/json.")


def init_request_checks(app: Flask) -> None:
    """Refuse non-JSON bodies on the JSON API (415) and TRACE; size is MAX_CONTENT_LENGTH (413)."""
    app.before_request(_check_request)
