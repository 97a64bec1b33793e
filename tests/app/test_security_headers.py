"""Security headers and the CORS policy."""

from __future__ import annotations

from flask.testing import FlaskClient

from app import create_app
from app.config import ProductionConfig
from tests.app.test_config import BASE, GOOD_KEY, PG


def test_api_responses_are_not_cached_or_sniffed(client: FlaskClient) -> None:
    response = client.get("/v1/me")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers


def test_docs_page_may_load_its_own_scripts_only(client: FlaskClient) -> None:
    csp = client.get("/docs").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp


def test_no_cross_origin_access_by_default(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_listed_origin_is_allowed(client: FlaskClient) -> None:
    client.application.config["CORS_ALLOWED_ORIGINS"] = ("https://portal.nhs.example",)
    try:
        response = client.get("/healthz", headers={"Origin": "https://portal.nhs.example"})
    finally:
        client.application.config["CORS_ALLOWED_ORIGINS"] = ()
    assert response.headers["Access-Control-Allow-Origin"] == "https://portal.nhs.example"


def test_production_sends_hsts() -> None:
    app = create_app(
        ProductionConfig,
        overrides={"SECRET_KEY": GOOD_KEY, "DATABASE_URL": PG, "PUBLIC_BASE_URL": BASE},
    )
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
