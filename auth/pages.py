"""Server-rendered account pages (sign-in, invitation, password reset): shared plumbing.

Each page gets its own Content-Security-Policy with a per-response nonce for its one
stylesheet, `no-store`, and a CSRF token kept in the signed, SameSite=Lax session cookie.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Response, current_app, render_template, request, session

CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """This browser's CSRF token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return str(token)


def csrf_ok() -> bool:
    """Whether the posted form carries this browser's CSRF token."""
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(str(expected), sent)


def forget_csrf() -> None:
    session.pop(CSRF_FIELD, None)


def render_page(template: str, status: int = 200, **context: Any) -> Response:
    """Render an account page with its CSP nonce and no caching."""
    nonce = secrets.token_urlsafe(16)
    body = render_template(template, nonce=nonce, csrf_token=csrf_token(), **context)
    response = Response(body, status=status)
    # No form-action: after sign-in the browser follows a redirect to the app's own scheme.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def public_base_url() -> str:
    """Where links in emails point: PUBLIC_BASE_URL, else the host this request came to."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return str(configured or request.url_root).rstrip("/")
