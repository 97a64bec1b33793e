"""Security headers on every response, and a deny-by-default CORS policy.

- `nosniff`, no referrer, no framing, a Content-Security-Policy (routes that render HTML
  may set their own, which is kept);
- `Cache-Control: no-store` on the API and OAuth paths: personal data never sits in a
  shared or browser cache (the app keeps its own store and revalidates with ETags);
- HSTS in production;
- CORS: the mobile app is native and the docs page is same-origin, so no cross-origin
  access is granted unless CORS_ALLOWED_ORIGINS lists the origin exactly.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

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


_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)
_PRIVATE = (("Pragma", "no-cache"),)
_PRODUCTION = (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),)


def _apply(response: Response) -> Response:
    headers = response.headers
    private = request.path.startswith(PRIVATE_PREFIXES)
    csp = DOCS_CSP if request.path.startswith("/docs") else API_CSP
    defaults = [*_ALWAYS, ("Content-Security-Policy", csp)]
    if private:
        defaults += _PRIVATE
    if current_app.config.get("ENV_NAME") == "production":
        defaults += _PRODUCTION
    # Each default only where the view set none, as setdefault would, but from one pass
    # over the headers (every response has these; setdefault scans the list once each).
    present = {name.lower() for name, _ in headers.items()}
    for name, value in defaults:
        if name.lower() not in present:
            headers.add(name, value)
    if private:
        headers["Cache-Control"] = "no-store"
        headers.add("Vary", "Authorization")
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config.get("CORS_ALLOWED_ORIGINS", ()):
        headers["Access-Control-Allow-Origin"] = origin
        headers.add("Vary", "Origin")
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        if request.method == "OPTIONS":
            headers["Access-Control-Allow-Methods"] = CORS_ALLOWED_METHODS
            headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            headers["Access-Control-Max-Age"] = "600"
    return response


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response, errors included."""
    app.after_request(_apply)
