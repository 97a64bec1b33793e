"""The app version gate: old builds get 426 with the minimum version, others pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import create_app
from app.app_version import parse_app_version
from app.config import ConfigurationError, TestingConfig
from tests.builders import bearer_for, build_person_user
from tests.conftest import RolledBackDatabase, make_app


@pytest.fixture(scope="module")
def gated_app(engine: Engine) -> Flask:
    return make_app(engine, MIN_APP_VERSION="2.4.0")


@pytest.fixture
def gated(gated_app: Flask, rolled_back: RolledBackDatabase) -> Iterator[FlaskClient]:
    rolled_back.bind(gated_app)
    yield gated_app.test_client()


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("2.4.0", (2, 4, 0)), ("2.4", (2, 4, 0)), ("3", (3, 0, 0)), ("2.10.1-beta+45", (2, 10, 1))],
)
def test_versions_parse_as_numbers(raw: str, parsed: tuple[int, int, int]) -> None:
    assert parse_app_version(raw) == parsed


@pytest.mark.parametrize("raw", ["", "v2", "2.4.x", "1..2", "2.4.0.1", "🙂"])
def test_malformed_versions_do_not_parse(raw: str) -> None:
    assert parse_app_version(raw) is None


def test_an_old_app_is_told_to_update(gated: FlaskClient, db_session: Session) -> None:
    headers = {**bearer_for(db_session, build_person_user(db_session)), "X-App-Version": "2.3.9"}
    response = gated.get("/v1/me", headers=headers)
    assert response.status_code == 426
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "/problems/upgrade-required"
    assert body["minimum_version"] == "2.4.0"
    assert "update" in body["detail"].lower()


def test_the_gate_applies_before_authentication(gated: FlaskClient) -> None:
    assert gated.get("/v1/me", headers={"X-App-Version": "1.0"}).status_code == 426


@pytest.mark.parametrize("version", ["2.4.0", "2.4.1", "2.10", "3.0.0-rc1"])
def test_current_and_newer_apps_pass(gated: FlaskClient, db_session: Session, version: str) -> None:
    headers = {**bearer_for(db_session, build_person_user(db_session)), "X-App-Version": version}
    assert gated.get("/v1/me", headers=headers).status_code == 200


def test_requests_without_the_header_are_not_gated(gated: FlaskClient, db_session: Session) -> None:
    headers = bearer_for(db_session, build_person_user(db_session))
    assert gated.get("/v1/me", headers=headers).status_code == 200


def test_a_malformed_version_is_a_bad_request(gated: FlaskClient) -> None:
    response = gated.get("/v1/me", headers={"X-App-Version": "latest"})
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/bad-request"


def test_health_and_docs_are_never_gated(gated: FlaskClient) -> None:
    for path in ("/healthz", "/openapi.json"):
        assert gated.get(path, headers={"X-App-Version": "0.1"}).status_code == 200


def test_no_minimum_configured_lets_every_version_through(
    client: FlaskClient, db_session: Session
) -> None:
    headers = {**bearer_for(db_session, build_person_user(db_session)), "X-App-Version": "0.0.1"}
    assert client.get("/v1/me", headers=headers).status_code == 200


def test_a_malformed_minimum_refuses_to_start() -> None:
    with pytest.raises(ConfigurationError, match="MIN_APP_VERSION"):
        create_app(TestingConfig, overrides={"DATABASE_URL": "sqlite://", "MIN_APP_VERSION": "x"})
