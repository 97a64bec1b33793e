"""Schemathesis over the whole contract, as every role: no 5xx, every response conforms to
the document, and negative (invalid) input is rejected with a 4xx.

Each role runs every operation with generated valid data (positive); the roles holding
scopes also with invalid data (negative); all inside the test's rolled-back transaction.
Path parameters are tried both as generated strings and as ids of the caller's own
records, so the happy paths run too.
SCHEMATHESIS_MAX_EXAMPLES (default 6) sets the examples per operation, role and mode.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import pytest
import schemathesis
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.notifications import notify
from auth.models import User
from auth.roles import scopes_for_roles
from mobile_contract.notifications.models import DeviceToken
from tests.app.probe_api import blp as probe_blp
from tests.builders import (
    bearer_for,
    bearer_for_back_office,
    build_admin,
    build_broker,
    build_person,
    build_person_user,
    build_provider,
    build_provider_staff,
    build_representative,
)
from tests.conftest import RolledBackDatabase, make_app

# Stripe configured (pointing at a closed local port: nothing here may reach it), so the
# webhook answers a bad signature with 400 instead of 503 "payments not configured".
PAYMENTS_CONFIGURED = {
    "STRIPE_SECRET_KEY": "sk_test_schemathesis_only",
    "STRIPE_API_BASE": "http://127.0.0.1:9",
    "STRIPE_WEBHOOK_SECRET": "whsec_schemathesis_only",
}

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))


def _representative(session: Session) -> User:
    return build_representative(session, person=build_person(session))


ROLES: dict[str, Callable[[Session], User] | None] = {
    "anonymous": None,
    "person": build_person_user,
    "representative": _representative,
    "broker": build_broker,
    "provider_staff": build_provider_staff,
    "admin": build_admin,
    "back_office": None,
}


@pytest.fixture(scope="module")
def fuzzed_app(engine: Engine) -> Flask:
    return make_app(engine, **PAYMENTS_CONFIGURED)


@pytest.fixture(scope="module")
def schema(fuzzed_app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", fuzzed_app)


@pytest.fixture
def bound(fuzzed_app: Flask, rolled_back: RolledBackDatabase) -> Iterator[Session]:
    rolled_back.bind(fuzzed_app)
    yield rolled_back.session


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    scopes: frozenset[str]
    own: dict[str, str]  # ids of records it owns, by path parameter name

    def may_call(self, operation: Any) -> bool:
        """Whether its token has the scopes the operation needs (else it gets 401/403)."""
        requirements = operation.definition.raw.get("security") or []
        if not requirements:
            return True
        if not self.headers:
            return False
        return any(
            set(scopes) <= self.scopes
            for requirement in requirements
            for scopes in requirement.values()
        )


def _caller(session: Session, role: str) -> Caller:
    """A token for the role, and records of its own to address."""
    if role == "anonymous":
        return Caller({}, frozenset(), {})
    if role == "back_office":
        scopes = {"providers:read", "bookings:manage"}
        headers = bearer_for_back_office(session, build_provider(session), scopes=scopes)
        return Caller(headers, frozenset(scopes), {})
    builder = ROLES[role]
    assert builder is not None
    user = builder(session)
    [notification] = notify(session, user_ids=[user.id], kind="plan_decided", title="Approved")
    device = DeviceToken(user_id=user.id, platform="ios", token="f" * 64)
    session.add(device)
    session.flush()
    own = {"notification_id": notification.id, "device_id": device.id}
    return Caller(bearer_for(session, user), scopes_for_roles(user.roles), own)


# Checks that need a stateful API model or extra requests with guessed ids are left out;
# the rest (server errors, status codes, content types, headers, response schemas,
# negative data rejection...) all run.
EXCLUDED = {"use_after_free", "ensure_resource_availability", "positive_data_acceptance"}


def _checks() -> list[Any]:
    return [check for check in CHECKS.get_all() if check.__name__ not in EXCLUDED]


def fuzz(schema: Any, caller: Caller, mode: GenerationMode) -> list[str]:
    """Run every operation of `schema` with generated data; one line per failing operation.

    An operation the caller's token has no scope for answers 401/403 whatever is sent, so
    it gets one positive example (the refusal must conform) and no negative ones.
    """
    checks = _checks()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        allowed = caller.may_call(operation)
        negatable = len(operation.query) + len(operation.headers) + len(operation.body)
        if mode is GenerationMode.NEGATIVE and not (negatable and allowed):
            continue  # nothing to make invalid, or refused before input is read
        path_names = {p.name for p in operation.path_parameters}
        overrides: list[dict[str, str] | None] = [None]
        own = caller.own
        if allowed and path_names and path_names <= own.keys() and mode is GenerationMode.POSITIVE:
            overrides.append({name: own[name] for name in path_names})
        for path_parameters in overrides:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @settings(
                max_examples=MAX_EXAMPLES if allowed else 1,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                response = case.call(headers=caller.headers)
                assert response.status_code < 500, f"{case.method} {case.path}: server error"
                case.validate_response(response, checks=checks, headers=caller.headers)

            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (no parameters or body): negative mode does not apply.
                continue
            except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


# Invalid input only reaches validation for callers the operation lets in, so negative
# data runs as the roles that hold scopes (anonymous and a second person-like role would
# only see 401/403 again).
NEGATIVE_ROLES = ("person", "broker", "provider_staff", "admin")
RUNS = [(role, GenerationMode.POSITIVE) for role in ROLES] + [
    (role, GenerationMode.NEGATIVE) for role in NEGATIVE_ROLES
]


@pytest.mark.parametrize(("role", "mode"), RUNS, ids=[f"{r}-{m.value}" for r, m in RUNS])
def test_every_operation_as_every_role(
    schema: Any, bound: Session, role: str, mode: GenerationMode
) -> None:
    failures = fuzz(schema, _caller(bound, role), mode)
    assert not failures, f"as {role}:\n\n" + "\n\n".join(failures)


class CountSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    count = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=10))


broken = Blueprint("broken", __name__, url_prefix="/v1/_broken")


@broken.route("/crash")
class Crash(MethodView):
    @broken.response(200, CountSchema, example={"count": 1})
    def get(self) -> Any:
        """Fails on the server."""
        raise RuntimeError("boom")


@broken.route("/lies")
class Lies(MethodView):
    @broken.response(200, CountSchema, example={"count": 1})
    def get(self) -> Any:
        """Answers with a body its schema does not allow."""
        return {"count": "many"}


@broken.route("/lenient")
class Lenient(MethodView):
    @broken.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"count": {"type": "integer", "minimum": 0}},
                        "required": ["count"],
                        "additionalProperties": False,
                    }
                }
            },
        }
    )
    @broken.response(200, CountSchema, example={"count": 1})
    def post(self) -> Any:
        """Documents a body but accepts anything."""
        return {"count": 1}


@pytest.fixture(scope="module")
def broken_schema(engine: Engine) -> Any:
    application = make_app(engine)
    application.extensions["api"].register_blueprint(broken)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", application)
    return schema.include(path_regex="_broken")


def test_the_harness_reports_server_errors_and_non_conforming_responses(
    broken_schema: Any, rolled_back: RolledBackDatabase
) -> None:
    failures = fuzz(broken_schema, Caller({}, frozenset(), {}), GenerationMode.POSITIVE)
    assert any(f.startswith("GET /v1/_broken/crash") for f in failures), failures
    assert any(f.startswith("GET /v1/_broken/lies") for f in failures), failures


def test_the_harness_reports_invalid_input_that_is_accepted(
    broken_schema: Any, rolled_back: RolledBackDatabase
) -> None:
    failures = fuzz(broken_schema, Caller({}, frozenset(), {}), GenerationMode.NEGATIVE)
    assert any(f.startswith("POST /v1/_broken/lenient") for f in failures), failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_endpoints_using_every_mechanism_pass(
    engine: Engine, rolled_back: RolledBackDatabase, mode: GenerationMode
) -> None:
    """The test-only probe API (idempotent POST, If-Match PUT, cursor list) conforms, so
    domain endpoints built on the same mechanisms can too."""
    application = make_app(engine)
    application.extensions["api"].register_blueprint(probe_blp)
    rolled_back.bind(application)
    schema = (
        schemathesis.openapi.from_wsgi("/openapi.json", application)
        .include(path_regex="_probe")
        .exclude(path_regex="explode")
    )
    failures = fuzz(schema, _caller(rolled_back.session, "person"), mode)
    assert not failures, "\n\n".join(failures)
