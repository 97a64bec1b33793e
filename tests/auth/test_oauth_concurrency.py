"""Two (or more) concurrent redemptions of one refresh token or one code: exactly one wins.

Runs with real commits from several threads (SQLite serialises writers; PostgreSQL uses
row locks behind the conditional UPDATE).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from werkzeug.test import TestResponse

from app.db import get_db
from tests.auth.oauth_client import (
    Pkce,
    exchange_code,
    get_code,
    refresh,
    sign_in_for_tokens,
    user_with_password,
)


def _race(app: Flask, attempt: Callable[..., TestResponse], runners: int = 6) -> list[int]:
    barrier = threading.Barrier(runners)
    statuses: list[int] = []

    def run() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(attempt(client).status_code)

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_concurrent_refreshes_of_one_token_exactly_one_succeeds(committed_app: Flask) -> None:
    session = get_db(committed_app).session_factory()
    user = user_with_password(session)
    session.commit()
    tokens = sign_in_for_tokens(committed_app.test_client(), user)

    statuses = _race(committed_app, lambda client: refresh(client, tokens["refresh_token"]))
    assert statuses == [200] + [400] * 5
    session.close()


def test_concurrent_exchanges_of_one_code_exactly_one_succeeds(committed_app: Flask) -> None:
    session = get_db(committed_app).session_factory()
    user = user_with_password(session)
    session.commit()
    pkce = Pkce()
    code = get_code(committed_app.test_client(), user, pkce)

    statuses = _race(committed_app, lambda client: exchange_code(client, code, pkce))
    assert statuses == [200] + [400] * 5
    session.close()
