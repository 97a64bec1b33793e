"""Security headers and the CORS policy."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import Engine

from app import create_app
from app.config import ProductionConfig
from tests.app.test_config import BASE, GOOD_KEY, PG
from tests.conftest import make_app


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


def test_error_responses_carry_the_headers_too(client: FlaskClient) -> None:
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers.getlist("Cache-Control") == ["no-store"]


def test_a_views_own_policy_is_kept_but_private_paths_are_never_stored(engine: Engine) -> None:
    app = make_app(engine)

    @app.get("/v1/own-headers")
    def own_headers() -> tuple[str, int, dict[str, str]]:
        return (
            "ok",
            200,
            {"Content-Security-Policy": "default-src 'self'", "Cache-Control": "max-age=60"},
        )

    response = app.test_client().get("/v1/own-headers")
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert response.headers.getlist("Pragma") == ["no-cache"]
    assert "Authorization" in response.headers.getlist("Vary")


def test_listed_origin_gets_a_preflight_answer(client: FlaskClient) -> None:
    client.application.config["CORS_ALLOWED_ORIGINS"] = ("https://portal.nhs.example",)
    try:
        response = client.options(
            "/v1/me",
            headers={
                "Origin": "https://portal.nhs.example",
                "Access-Control-Request-Method": "GET",
            },
        )
    finally:
        client.application.config["CORS_ALLOWED_ORIGINS"] = ()
    assert response.headers.getlist("Access-Control-Allow-Origin") == ["https://portal.nhs.example"]
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in response.headers.getlist("Vary")
