"""Security headers on every response, and a deny-by-default CORS policy.

- `nosniff`, no referrer, no framing, a Content-Security-Policy (routes that render HTML
  may set their own, which is kept);
- `Cache-Control: no-store` on the API and OAuth paths: personal data never sits in a
  shared or browser cache (the app keeps its own store and revalidates with ETags);
- HSTS in production;
- CORS: the mobile app is native and the docs page is same-origin, so no cross-origin
  access is granted unless CORS_ALLOWED_ORIGINS lists the origin exactly.

They are added as the response starts, by a WSGI middleware around the app, as plain
(name, value) pairs: every value here is a constant, or the caller's own Origin when it is
listed exactly. Added as werkzeug `Headers` in an after-request hook instead, each one was
checked again when the response's headers were copied for the server, about 7% of the
instructions of a small request such as `/v1/me`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)
PRIVATE_PREFIXES = ("/v1/", "/oauth/")
CORS_ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_ALLOWED_HEADERS = (
    "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-App-Version, "
    "X-Request-ID"
)
CORS_EXPOSED_HEADERS = "ETag, Location, Retry-After, X-Request-ID, Idempotent-Replayed"

Header = tuple[str, str]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
_PRIVATE = (("Pragma", "no-cache"),)
_PRODUCTION = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)
_NO_STORE = ("Cache-Control", "no-store")
_VARY_AUTHORIZATION = ("Vary", "Authorization")


def _with_defaults(headers: list[Header], defaults: Iterable[Header]) -> list[Header]:
    """Each default only where the response has no header of that name."""
    present = {name.lower() for name, _ in headers}
    return headers + [(name, value) for name, value in defaults if name.lower() not in present]


def _replacing(headers: list[Header], replacements: list[Header]) -> list[Header]:
    """The headers with any of the replacements' names dropped, then the replacements."""
    names = {name.lower() for name, _ in replacements}
    return [h for h in headers if h[0].lower() not in names] + replacements


def _cors(origin: str, method: str) -> list[Header]:
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS),
    ]
    if method == "OPTIONS":
        headers += [
            ("Access-Control-Allow-Methods", CORS_ALLOWED_METHODS),
            ("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS),
            ("Access-Control-Max-Age", "600"),
        ]
    return headers


class SecurityHeaders:
    """WSGI middleware adding the security and CORS headers to every response, errors
    included, as the wrapped app starts it."""

    def __init__(self, wsgi_app: WsgiApp, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.config = app.config  # read per request: the allowed origins may change

    def headers_for(self, environ: dict[str, Any], headers: list[Header]) -> list[Header]:
        path = environ.get("PATH_INFO", "")
        private = path.startswith(PRIVATE_PREFIXES)
        csp = DOCS_CSP if path.startswith("/docs") else API_CSP
        defaults = [*_ALWAYS, ("Content-Security-Policy", csp)]
        if private:
            defaults += _PRIVATE
        if self.config.get("ENV_NAME") == "production":
            defaults += _PRODUCTION
        headers = _with_defaults(headers, defaults)
        if private:
            headers = _replacing(headers, [_NO_STORE])
            headers.append(_VARY_AUTHORIZATION)
        origin = environ.get("HTTP_ORIGIN")
        if origin and origin in self.config.get("CORS_ALLOWED_ORIGINS", ()):
            headers = _replacing(headers, _cors(origin, environ.get("REQUEST_METHOD", "")))
            headers.append(("Vary", "Origin"))
        return headers

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start_with_headers(status: str, headers: list[Header], *args: Any) -> Any:
            return start_response(status, self.headers_for(environ, headers), *args)

        return self.wsgi_app(environ, start_with_headers)


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response, errors included."""
    app.wsgi_app = SecurityHeaders(app.wsgi_app, app)  # type: ignore[method-assign]
