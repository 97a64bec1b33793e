"""The Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_smorest import Blueprint

from app.app_version import init_app_version_gate
from app.application import ChoiceAndControlApp
from app.config import BaseConfig, config_from_environment
from app.cookie_session import CookieSessionWhenSent
from app.db import Database, build_engine
from app.etag import init_etags
from app.json_provider import FastJSONProvider
from app.observability import init_observability
from app.openapi import ProblemApi, register_problem_components
from app.openapi_conventions import CrossCuttingResponsesPlugin
from app.openapi_examples import ExamplesPlugin
from app.rate_limits import init_rate_limits
from app.requests import init_request_checks
from app.security_headers import init_security_headers


def create_app(
    config: type[BaseConfig] | None = None, overrides: dict[str, Any] | None = None
) -> Flask:
    """Build the app from a config class (default: the one APP_ENV names) plus overrides."""
    config_class = config or config_from_environment()
    app = ChoiceAndControlApp(__name__, instance_relative_config=True)
    app.json = FastJSONProvider(app)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = config_class.database_url(app.instance_path)
    config_class.validate(dict(app.config))
    if app.config["DATABASE_URL"].startswith("sqlite"):
        os.makedirs(app.instance_path, exist_ok=True)

    app.session_interface = CookieSessionWhenSent()
    init_observability(app)
    init_request_checks(app)
    init_app_version_gate(app)
    Database(build_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])).init_app(app)
    _init_api(app)
    init_rate_limits(app)
    init_etags(app)
    init_security_headers(app)
    _init_oauth(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _init_api(app: Flask) -> ProblemApi:
    from app import docs, health, problem_docs

    api = ProblemApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Personal health budgets, care and support plans, providers, bookings, "
                    "payments and IPS employment support. Errors are RFC 9457 problem+json."
                )
            },
            "servers": [{"url": "/"}],
            "extra_plugins": [CrossCuttingResponsesPlugin(), ExamplesPlugin()],
        },
    )
    register_problem_components(api)
    api.spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize",
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/token",
                    "scopes": _scope_descriptions(),
                }
            },
        },
    )
    for api_blueprint in _api_blueprints():
        api.register_blueprint(api_blueprint)
    for blueprint in (health.blp, docs.blp, problem_docs.blp):
        app.register_blueprint(blueprint)
    app.extensions["api"] = api
    return api


def _init_oauth(app: Flask) -> None:
    from auth.oauth.routes import blp as oauth_pages
    from auth.oauth.server import init_oauth
    from auth.onboarding.pages import blp as account_pages
    from auth.throttle import init_throttle

    init_oauth(app)
    app.register_blueprint(oauth_pages)
    app.register_blueprint(account_pages)
    init_throttle(app)


def _api_blueprints() -> list[Blueprint]:
    """Every documented API blueprint, in the order they appear in the docs."""
    from app.data_protection.routes import blp as data_protection
    from auth.backoffice.routes import blp as back_office_clients
    from auth.onboarding.routes import blp as onboarding
    from auth.routes import blp as accounts
    from budgets.bookings.claims.routes import blp as claims
    from budgets.bookings.routes import blp as bookings
    from budgets.caseload.routes import blp as caseload
    from budgets.funding.routes import blp as budgets
    from budgets.ledger.routes import blp as ledger
    from budgets.payments.routes import blp as payments
    from budgets.plans.routes import blp as plans
    from budgets.providers.offers.routes import blp as offers
    from budgets.providers.routes import blp as providers
    from employment.routes import blp as employment
    from mobile_contract.notifications.routes import blp as notifications

    return [
        accounts,
        onboarding,
        notifications,
        back_office_clients,
        budgets,
        ledger,
        plans,
        caseload,
        providers,
        offers,
        bookings,
        claims,
        payments,
        employment,
        data_protection,
    ]


def _scope_descriptions() -> dict[str, str]:
    from auth.roles import SCOPE_DESCRIPTIONS

    return {str(scope): text for scope, text in SCOPE_DESCRIPTIONS.items()}
