"""Flask's signed-cookie session (the sign-in pages use it), built only when there is one.

Flask opens the session on every request, and its signer (an itsdangerous serializer
with its key derivation set up) was built each time: 1-2% of every API call's CPU, for
API calls that never carry the cookie.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionWhenSent(SecureCookieSessionInterface):
    """A request without the session cookie gets a new empty session without a signer;
    one with the cookie is verified exactly as Flask does. A request whose Cookie header
    cannot hold the session cookie (none, on the API) is not parsed for cookies at all."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        name = self.get_cookie_name(app)
        if app.secret_key and (
            name not in request.environ.get("HTTP_COOKIE", "") or not request.cookies.get(name)
        ):
            return self.session_class()
        return super().open_session(app, request)
