"""Probes, request ids, the OpenAPI document and the docs page."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_database_and_migrations(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_request_id_is_echoed_or_generated(client: FlaskClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-12345678"}).headers["X-Request-ID"]
        == "abc-12345678"
    )
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers[
        "X-Request-ID"
    ]
    assert generated != "bad id <script>" and len(generated) == 32


def test_access_log_is_json_with_request_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    from app.observability import JsonLineFormatter

    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get("/healthz", headers={"X-Request-ID": "trace-me-123"})
    record = next(r for r in caplog.records if r.name == "app.access")
    line = json.loads(JsonLineFormatter().format(record))
    assert line["status"] == 200 and line["path"] == "/healthz" and line["message"] == "request"


def test_openapi_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert "/v1/me" in document["paths"]
    assert "Problem" in document["components"]["schemas"]


def test_docs_page_serves_swagger_ui_from_the_package(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert b"swagger-ui-bundle.js" in page.data
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    init = client.get("/docs/init.js").get_data(as_text=True)
    assert "/openapi.json" in init and "usePkceWithAuthorizationCodeGrant" in init


def test_problem_types_resolve(client: FlaskClient) -> None:
    response = client.get("/problems/validation-error")
    assert response.status_code == 200
    assert response.get_json()["status"] == 422
