"""An app with the probe API registered, bound to the test's rolled-back transaction."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.app.probe_api import blp as probe_blp
from tests.conftest import RolledBackDatabase, make_app


@pytest.fixture(scope="session")
def probe_app(engine: Engine) -> Flask:
    app = make_app(engine, MAX_CONTENT_LENGTH=4096)
    app.extensions["api"].register_blueprint(probe_blp)
    return app


@pytest.fixture
def probe_client(probe_app: Flask, rolled_back: RolledBackDatabase) -> FlaskClient:
    rolled_back.bind(probe_app)
    return probe_app.test_client()
