"""Bad input never yields a 500: every error is problem+json with the right status and type."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from tests.builders import bearer_for, build_user

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, slug: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json(force=True)
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


@pytest.fixture
def auth(db_session):  # type: ignore[no-untyped-def]
    return bearer_for(db_session, build_user(db_session))


def test_unknown_route_is_404_problem(client: FlaskClient) -> None:
    assert_problem(client.get("/v1/no-such-thing"), 404, "not-found")


def test_wrong_method_is_405_with_allow_header(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"]


def test_trace_is_refused(client: FlaskClient) -> None:
    assert_problem(client.open("/healthz", method="TRACE"), 405, "method-not-allowed")


def test_malformed_json_is_400(probe_client: FlaskClient, auth) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post(
        "/v1/_probe/commissioners", data="{not json", content_type="application/json", headers=auth
    )
    assert_problem(response, 400, "bad-request")


def test_wrong_content_type_is_415(probe_client: FlaskClient, auth) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post(
        "/v1/_probe/commissioners", data="name=x", content_type="text/plain", headers=auth
    )
    assert_problem(response, 415, "unsupported-media-type")


def test_oversized_body_is_413(probe_client: FlaskClient, auth) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post(
        "/v1/_probe/commissioners", json={"name": "x" * 10_000, "kind": "icb"}, headers=auth
    )
    assert_problem(response, 413, "payload-too-large")


def test_validation_errors_are_422_per_field(probe_client: FlaskClient, auth) -> None:  # type: ignore[no-untyped-def]
    response = probe_client.post(
        "/v1/_probe/commissioners", json={"kind": "hospital", "colour": "red"}, headers=auth
    )
    body = assert_problem(response, 422, "validation-error")
    assert set(body["errors"]) == {"name", "kind", "colour"}
    assert body["errors"]["name"] == ["Missing data for required field."]


def test_garbage_query_argument_is_422(probe_client: FlaskClient, auth) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(
        probe_client.get("/v1/_probe/commissioners?limit=lots", headers=auth),
        422,
        "validation-error",
    )
    assert "limit" in body["errors"]


def test_unexpected_exception_is_500_without_internals(
    probe_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = probe_client.get("/v1/_probe/explode", headers={"X-Request-ID": "req-12345678"})
    body = assert_problem(response, 500, "internal-error")
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["request_id"] == "req-12345678"
    logged = [r for r in caplog.records if r.name == "app.errors"]
    assert logged and logged[0].exc_info is not None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/budgets/%00", None),
        ("GET", "/v1/offers?q=a%00b", None),
        ("POST", "/v1/budgets", {"person_id": "a\u0000b"}),
        ("POST", "/v1/budgets", {"nested": [{"k\u0000": "v"}]}),
    ],
)
def test_a_nul_character_anywhere_is_a_400_not_a_database_error(
    client, method: str, path: str, body: object
) -> None:  # type: ignore[no-untyped-def]
    response = client.open(path, method=method, json=body)
    assert_problem(response, 400, "bad-request")


def test_a_body_that_only_spells_the_nul_escape_is_not_refused_for_it(
    client,
) -> None:  # type: ignore[no-untyped-def]
    # The text backslash-u-0000 holds no NUL: the request goes on, to ask for a token.
    response = client.post("/v1/budgets", json={"person_id": "a\\u0000b"})
    assert response.status_code == 401
    with_nul = client.post("/v1/budgets", json={"person_id": "a\u0000b"})
    assert with_nul.status_code == 400
