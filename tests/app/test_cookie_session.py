"""The signed-cookie session: empty without the cookie, verified with it, as Flask does."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app.cookie_session import CookieSessionWhenSent


def _open(app: Flask, cookie: str | None, others: str = "") -> dict[str, object] | None:
    sent = [f"session={cookie}"] if cookie is not None else []
    sent += [others] if others else []
    headers = {"Cookie": "; ".join(sent)} if sent else {}
    with app.test_request_context("/", headers=headers) as ctx:
        opened = CookieSessionWhenSent().open_session(app, ctx.request)
        return None if opened is None else dict(opened)


def _signed(app: Flask, data: dict[str, object]) -> str:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return str(serializer.dumps(data))


def test_no_cookie_opens_an_empty_session(app: Flask) -> None:
    assert _open(app, None) == {}


def test_a_signed_cookie_is_read_and_a_forged_one_ignored(app: Flask) -> None:
    assert _open(app, _signed(app, {"user": "u-1"})) == {"user": "u-1"}
    assert _open(app, _signed(app, {"user": "u-1"})[:-2] + "xx") == {}


def test_other_cookies_alone_open_an_empty_session(app: Flask) -> None:
    assert _open(app, None, others="theme=dark") == {}
    # a name that merely contains "session" is not the session cookie
    assert _open(app, None, others=f"old_session={_signed(app, {'user': 'u-1'})}") == {}


def test_the_session_cookie_among_others_is_read(app: Flask) -> None:
    assert _open(app, _signed(app, {"user": "u-1"}), others="theme=dark") == {"user": "u-1"}


def test_without_a_secret_key_there_is_no_session(app: Flask) -> None:
    keyless = Flask("keyless")
    assert _open(keyless, None) is None
