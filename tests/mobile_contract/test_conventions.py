"""Every operation documents its summary, examples and every error it can give."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import Flask
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Engine

from app.deprecation import deprecated
from auth.guard import require_auth
from mobile_contract.conventions import operation_doc_problems
from mobile_contract.document import live_document
from tests.conftest import make_app


def test_every_operation_in_the_contract_follows_the_conventions(app: Flask) -> None:
    problems = operation_doc_problems(live_document(app))
    assert not problems, "Operations fall short of the contract conventions:\n" + "\n".join(
        f"  {p}" for p in problems
    )


class ThingSchema(ma.Schema):
    name = ma.fields.String(required=True)


sloppy = Blueprint("sloppy", __name__, url_prefix="/v1/_sloppy")


@sloppy.route("/things/<thing_id>")
class Thing(MethodView):
    @require_auth("profile")
    @sloppy.arguments(ThingSchema)
    @sloppy.response(200, ThingSchema)
    def put(self, data: dict[str, Any], thing_id: str) -> Any:
        return data


@sloppy.route("/old")
class Old(MethodView):
    @deprecated(sunset=date(2027, 6, 30), replacement="/v1/me")
    @sloppy.response(200, ThingSchema, example={"name": "x"})
    def get(self) -> Any:
        """An old way to read a thing."""
        return {"name": "old"}


def _sloppy_app(engine: Engine) -> Flask:
    application = make_app(engine)
    application.extensions["api"].register_blueprint(sloppy)
    return application


def test_the_check_names_each_shortfall(engine: Engine) -> None:
    document = live_document(_sloppy_app(engine))
    put = document["paths"]["/v1/_sloppy/things/{thing_id}"]["put"]
    # Examples are derived from the schemas (app/openapi_examples.py); take them away to
    # show the check would catch a body without one.
    del put["requestBody"]["content"]["application/json"]["example"]
    del put["responses"]["200"]["content"]["application/json"]["example"]
    problems = [p for p in operation_doc_problems(document) if "_sloppy" in p]
    assert problems == [
        "PUT /v1/_sloppy/things/{thing_id}: no summary (give the view a docstring)",
        "PUT /v1/_sloppy/things/{thing_id}: 200 response has no example",
        "PUT /v1/_sloppy/things/{thing_id}: request body has no example",
    ]


def test_each_missing_error_response_is_named(engine: Engine) -> None:
    document = live_document(_sloppy_app(engine))
    put = document["paths"]["/v1/_sloppy/things/{thing_id}"]["put"]
    put["summary"] = "Replace a thing."
    for status in ("401", "404", "412", "422", "429"):
        del put["responses"][status]
    put["responses"]["403"] = {"description": "Forbidden"}
    where = "PUT /v1/_sloppy/things/{thing_id}"
    assert [p for p in operation_doc_problems(document) if "_sloppy/things" in p] == [
        f"{where}: does not document 401 (it needs a bearer token)",
        f"{where}: does not document 404 (it addresses a record that may not exist or not "
        "be yours)",
        f"{where}: does not document 412 (updates check If-Match)",
        f"{where}: does not document 422 (it reads input that can be invalid)",
        f"{where}: does not document 429 (every request may be rate limited)",
        f"{where}: 403 is not documented as application/problem+json",
    ]


def test_a_filter_by_record_id_documents_404(app: Flask) -> None:
    document = live_document(app)
    filtered = [
        (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
        and any(
            p.get("in") == "query" and str(p.get("name", "")).endswith("_id")
            for p in operation.get("parameters", [])
        )
    ]
    assert filtered, "expected some list filtered by a record id"
    for path, method in filtered:
        assert "404" in document["paths"][path][method]["responses"], (path, method)


def test_bodies_get_examples_from_their_schemas(engine: Engine) -> None:
    put = live_document(_sloppy_app(engine))["paths"]["/v1/_sloppy/things/{thing_id}"]["put"]
    example = put["requestBody"]["content"]["application/json"]["example"]
    assert set(example) <= set(ThingSchema().fields) and example


def test_a_deprecated_operation_has_a_sunset_in_the_document_and_the_headers(
    engine: Engine,
) -> None:
    application = _sloppy_app(engine)
    operation = live_document(application)["paths"]["/v1/_sloppy/old"]["get"]
    assert operation["deprecated"] is True and operation["x-sunset"] == "2027-06-30"
    response = application.test_client().get("/v1/_sloppy/old")
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "true"
    assert response.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert response.headers["Link"] == '</v1/me>; rel="successor-version"'


def test_a_deprecation_without_a_sunset_date_is_flagged() -> None:
    document = {
        "paths": {
            "/healthz": {
                "get": {"summary": "x", "deprecated": True, "responses": {"429": {}}},
            }
        }
    }
    problems = operation_doc_problems(document)
    assert "GET /healthz: deprecated without an x-sunset date (YYYY-MM-DD)" in problems


def test_updates_document_a_required_if_match_with_412_and_428(engine: Engine) -> None:
    operation = live_document(_sloppy_app(engine))["paths"]["/v1/_sloppy/things/{thing_id}"]["put"]
    [if_match] = [p for p in operation["parameters"] if p["name"] == "If-Match"]
    assert if_match["in"] == "header" and if_match["required"] is True
    assert {"412", "428"} <= set(operation["responses"])
