"""Cursor pagination: bounded limits, opaque signed cursors, garbage cursors are 400."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from app.domain_errors import InvalidCursor
from app.pagination import CursorCodec
from tests.app.test_errors import assert_problem
from tests.builders import bearer_for, build_commissioner, build_user


@pytest.fixture
def seeded(db_session):  # type: ignore[no-untyped-def]
    for _ in range(7):
        build_commissioner(db_session)
    return bearer_for(db_session, build_user(db_session))


def test_pages_walk_every_item_once(probe_client: FlaskClient, seeded) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = probe_client.get(f"/v1/_probe/commissioners?{query}", headers=seeded).get_json()
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 7
    assert seen == sorted(seen)
    assert pages == -(-len(seen) // 3)


@pytest.mark.parametrize("limit", ["0", "101", "-1"])
def test_limit_is_bounded(probe_client: FlaskClient, seeded, limit: str) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.get(f"/v1/_probe/commissioners?limit={limit}", headers=seeded)
    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize("cursor", ["garbage", "eyJzIjoicHJvYmUifQ", "a" * 300, "%ff%fe"])
def test_garbage_cursor_is_400(probe_client: FlaskClient, seeded, cursor: str) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.get(f"/v1/_probe/commissioners?cursor={cursor}", headers=seeded)
    assert_problem(response, 400, "invalid-cursor")


def test_cursor_from_another_list_is_refused() -> None:
    codec = CursorCodec("secret")
    foreign = codec.encode("other-list", ["x"])
    with pytest.raises(InvalidCursor):
        codec.decode("probe", foreign)


def test_cursor_signed_with_another_secret_is_refused() -> None:
    forged = CursorCodec("attacker").encode("probe", ["x"])
    with pytest.raises(InvalidCursor):
        CursorCodec("secret").decode("probe", forged)
