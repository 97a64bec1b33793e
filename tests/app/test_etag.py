"""ETag on reads (If-None-Match -> 304) and If-Match on updates (428 missing, 412 stale)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.app.test_errors import assert_problem
from tests.builders import bearer_for, build_commissioner, build_user


@pytest.fixture
def setup(db_session):  # type: ignore[no-untyped-def]
    commissioner = build_commissioner(db_session)
    return commissioner.id, bearer_for(db_session, build_user(db_session))


def test_get_has_etag_and_if_none_match_gives_304(probe_client: FlaskClient, setup) -> None:  # type: ignore[no-untyped-def]
    commissioner_id, auth = setup
    first = probe_client.get(f"/v1/_probe/commissioners/{commissioner_id}", headers=auth)
    etag = first.headers["ETag"]
    again = probe_client.get(
        f"/v1/_probe/commissioners/{commissioner_id}", headers={**auth, "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.data == b""


def test_a_stale_if_none_match_gets_the_full_response(probe_client: FlaskClient, setup) -> None:  # type: ignore[no-untyped-def]
    commissioner_id, auth = setup
    path = f"/v1/_probe/commissioners/{commissioner_id}"
    first = probe_client.get(path, headers=auth)
    again = probe_client.get(path, headers={**auth, "If-None-Match": '"not-the-tag"'})
    assert again.status_code == 200
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]


def test_the_app_leaves_the_date_header_to_the_server(probe_client: FlaskClient, setup) -> None:  # type: ignore[no-untyped-def]
    """gunicorn and werkzeug's server add Date; a second one from the app would make two."""
    commissioner_id, auth = setup
    path = f"/v1/_probe/commissioners/{commissioner_id}"
    first = probe_client.get(path, headers=auth)
    again = probe_client.get(path, headers={**auth, "If-None-Match": first.headers["ETag"]})
    assert (first.status_code, again.status_code) == (200, 304)
    assert "Date" not in first.headers and "Date" not in again.headers


def test_list_responses_get_a_content_etag(probe_client: FlaskClient, setup) -> None:  # type: ignore[no-untyped-def]
    _, auth = setup
    first = probe_client.get("/v1/_probe/commissioners", headers=auth)
    assert first.headers.get("ETag")
    again = probe_client.get(
        "/v1/_probe/commissioners", headers={**auth, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_update_needs_if_match(probe_client: FlaskClient, setup) -> None:  # type: ignore[no-untyped-def]
    commissioner_id, auth = setup
    response = probe_client.put(
        f"/v1/_probe/commissioners/{commissioner_id}",
        json={"name": "A", "kind": "icb"},
        headers=auth,
    )
    assert_problem(response, 428, "precondition-required")


def test_stale_if_match_is_412_and_changes_nothing(probe_client: FlaskClient, setup) -> None:  # type: ignore[no-untyped-def]
    commissioner_id, auth = setup
    url = f"/v1/_probe/commissioners/{commissioner_id}"
    etag = probe_client.get(url, headers=auth).headers["ETag"]
    first = probe_client.put(
        url, json={"name": "Device A", "kind": "icb"}, headers={**auth, "If-Match": etag}
    )
    assert first.status_code == 200
    second = probe_client.put(
        url, json={"name": "Device B", "kind": "icb"}, headers={**auth, "If-Match": etag}
    )
    assert_problem(second, 412, "precondition-failed")
    assert probe_client.get(url, headers=auth).get_json()["name"] == "Device A"
