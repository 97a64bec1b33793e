"""The breaking-change checker catches each kind of break and lets additive changes pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from mobile_contract.compat import find_breaking_changes

Doc = dict[str, Any]


def base_document() -> Doc:
    """A small contract: a plan list with query args, a plan create, a plan read."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1.0.0"},
        "paths": {
            "/v1/plans": {
                "get": {
                    "summary": "List plans",
                    "parameters": [
                        {
                            "in": "query",
                            "name": "limit",
                            "schema": {"type": "integer", "maximum": 100},
                        },
                        {
                            "in": "query",
                            "name": "status",
                            "schema": {"type": "string", "enum": ["draft", "approved"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Plan"},
                                            },
                                            "next_cursor": {"type": ["string", "null"]},
                                        },
                                    }
                                }
                            },
                        }
                    },
                },
                "post": {
                    "summary": "Create a plan",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PlanCreate"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Plan"}
                                }
                            },
                        }
                    },
                },
            },
            "/v1/plans/{plan_id}": {
                "get": {
                    "summary": "Read a plan",
                    "parameters": [
                        {
                            "in": "path",
                            "name": "plan_id",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Plan"}
                                }
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Plan": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": {"type": "string", "enum": ["draft", "approved"]},
                        "title": {"type": "string"},
                        "total": {
                            "type": "object",
                            "properties": {
                                "amount": {"type": "integer"},
                                "currency": {"type": "string"},
                            },
                        },
                    },
                },
                "PlanCreate": {
                    "type": "object",
                    "required": ["title"],
                    "properties": {
                        "title": {"type": "string", "maxLength": 200},
                        "kind": {"type": "string", "enum": ["health", "integrated"]},
                        "notes": {"type": ["string", "null"]},
                    },
                },
            }
        },
    }


def changed(mutate: Callable[[Doc], None]) -> Doc:
    document = base_document()
    mutate(document)
    return document


def kinds(new: Doc, *, today: date | None = None) -> set[str]:
    return {c.kind for c in find_breaking_changes(base_document(), new, today=today)}


PLAN = ("components", "schemas", "Plan")
CREATE = ("components", "schemas", "PlanCreate")


def at(document: Doc, *path: str) -> Any:
    node: Any = document
    for part in path:
        node = node[part]
    return node


def test_identical_documents_have_no_breaks() -> None:
    assert find_breaking_changes(base_document(), base_document()) == []


def _add_everything(d: Doc) -> None:
    d["paths"]["/v1/offers"] = copy.deepcopy(d["paths"]["/v1/plans"])
    d["paths"]["/v1/plans/{plan_id}"]["delete"] = {"responses": {"204": {"description": "x"}}}
    at(d, *PLAN)["properties"]["submitted_at"] = {"type": ["string", "null"]}
    at(d, *PLAN)["properties"]["status"]["enum"].append("declined")
    at(d, *CREATE)["properties"]["budget_id"] = {"type": "string"}
    at(d, *CREATE)["properties"]["kind"]["enum"].append("social-care")
    at(d, *CREATE)["properties"]["title"]["maxLength"] = 500
    at(d, *CREATE)["properties"]["notes"]["type"] = ["string", "null", "integer"]
    d["paths"]["/v1/plans"]["get"]["parameters"].append(
        {"in": "query", "name": "updated_since", "schema": {"type": "string"}}
    )
    d["paths"]["/v1/plans"]["post"]["responses"]["409"] = {"description": "Conflict"}
    d["paths"]["/v1/plans"]["get"]["deprecated"] = True
    d["paths"]["/v1/plans"]["get"]["x-sunset"] = "2027-06-30"


def test_additive_changes_pass() -> None:
    assert find_breaking_changes(base_document(), changed(_add_everything)) == []


def test_renamed_path_parameter_is_not_a_break() -> None:
    def rename(d: Doc) -> None:
        item = d["paths"].pop("/v1/plans/{plan_id}")
        item["get"]["parameters"][0]["name"] = "id"
        d["paths"]["/v1/plans/{id}"] = item

    assert kinds(changed(rename)) == set()


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda d: d["paths"].pop("/v1/plans/{plan_id}"), "removed-path"),
        (lambda d: d["paths"]["/v1/plans"].pop("post"), "removed-operation"),
        (lambda d: at(d, *PLAN)["properties"].pop("title"), "removed-response-field"),
        (
            lambda d: at(d, *PLAN)["properties"].__setitem__(
                "name", at(d, *PLAN)["properties"].pop("title")
            ),
            "removed-response-field",
        ),
        (
            lambda d: at(d, *PLAN, "properties", "total", "properties").pop("currency"),
            "removed-response-field",
        ),
        (lambda d: at(d, *PLAN)["required"].remove("status"), "removed-response-field"),
        (
            lambda d: at(d, *PLAN, "properties", "id").__setitem__("type", ["string", "null"]),
            "changed-type",
        ),
        (
            lambda d: at(d, *PLAN, "properties", "total", "properties", "amount").__setitem__(
                "type", "number"
            ),
            "changed-type",
        ),
        (lambda d: at(d, *CREATE)["required"].append("kind"), "new-required-request-field"),
        (
            lambda d: (
                at(d, *CREATE)["properties"].__setitem__("budget_id", {"type": "string"}),
                at(d, *CREATE)["required"].append("budget_id"),
            ),
            "new-required-request-field",
        ),
        (
            lambda d: d["paths"]["/v1/plans"]["get"]["parameters"].append(
                {"in": "query", "name": "person_id", "required": True, "schema": {"type": "string"}}
            ),
            "new-required-parameter",
        ),
        (
            lambda d: d["paths"]["/v1/plans"]["get"]["parameters"].append(
                {"in": "header", "name": "X-Person", "required": True, "schema": {"type": "string"}}
            ),
            "new-required-parameter",
        ),
        (lambda d: at(d, *CREATE)["properties"].pop("notes"), "removed-request-field"),
        (lambda d: d["paths"]["/v1/plans"]["get"]["parameters"].pop(1), "removed-parameter"),
        (
            lambda d: at(d, *CREATE, "properties", "kind")["enum"].remove("integrated"),
            "narrowed-enum",
        ),
        (
            lambda d: d["paths"]["/v1/plans"]["get"]["parameters"][1]["schema"]["enum"].pop(),
            "narrowed-enum",
        ),
        (
            lambda d: at(d, *CREATE, "properties", "title").__setitem__("enum", ["a", "b"]),
            "narrowed-enum",
        ),
        (
            lambda d: at(d, *CREATE, "properties", "notes").__setitem__("type", "string"),
            "narrowed-type",
        ),
        (
            lambda d: at(d, *CREATE, "properties", "title").__setitem__("type", "integer"),
            "narrowed-type",
        ),
        (
            lambda d: at(d, *CREATE, "properties", "title").__setitem__("maxLength", 50),
            "narrowed-type",
        ),
        (
            lambda d: d["paths"]["/v1/plans"]["get"]["parameters"][0]["schema"].__setitem__(
                "maximum", 20
            ),
            "narrowed-type",
        ),
        (
            lambda d: d["paths"]["/v1/plans"]["post"]["responses"].__setitem__(
                "200", d["paths"]["/v1/plans"]["post"]["responses"].pop("201")
            ),
            "changed-status-code",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_kind_of_break_is_caught(mutate: Callable[[Doc], Any], kind: str) -> None:
    found = kinds(changed(mutate))
    assert kind in found, found


def test_a_new_required_body_on_an_operation_without_one_is_a_break() -> None:
    def require_body(d: Doc) -> None:
        d["paths"]["/v1/plans/{plan_id}"]["get"]["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }

    assert kinds(changed(require_body)) == {"new-required-request-field"}


def test_removing_a_deprecated_operation_passes_only_after_its_sunset() -> None:
    old = changed(
        lambda d: d["paths"]["/v1/plans/{plan_id}"]["get"].update(
            {"deprecated": True, "x-sunset": "2027-01-31"}
        )
    )
    new = changed(lambda d: d["paths"].pop("/v1/plans/{plan_id}"))
    before = find_breaking_changes(old, new, today=date(2027, 1, 30))
    after = find_breaking_changes(old, new, today=date(2027, 1, 31))
    assert [c.kind for c in before] == ["removed-path"]
    assert after == []


def test_deprecated_without_a_sunset_still_cannot_be_removed() -> None:
    old = changed(lambda d: d["paths"]["/v1/plans"]["post"].update({"deprecated": True}))
    new = changed(lambda d: d["paths"]["/v1/plans"].pop("post"))
    assert {c.kind for c in find_breaking_changes(old, new)} == {"removed-operation"}


def test_break_messages_say_where_and_what() -> None:
    changes = find_breaking_changes(
        base_document(), changed(lambda d: at(d, *PLAN)["properties"].pop("title"))
    )
    assert [c.where for c in changes] == [
        "GET /v1/plans 200 body.items[].title",
        "POST /v1/plans 201 body.title",
        "GET /v1/plans/{plan_id} 200 body.title",
    ]
    assert str(changes[0]) == (
        "removed-response-field at GET /v1/plans 200 body.items[].title: the field is gone"
    )
