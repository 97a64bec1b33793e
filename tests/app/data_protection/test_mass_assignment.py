"""Mass assignment: a write that carries a server-owned field is refused with 422 and
changes nothing, on every write operation in the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from auth.roles import Role
from tests.builders import bearer_for, build_user

# Fields only the server sets: ids, owners, states, roles, balances, agreed amounts.
SERVER_OWNED = (
    "id",
    "status",
    "created_at",
    "updated_at",
    "version",
    "owner_id",
    "role",
    "roles",
    "balance",
    "balances",
    "spent",
    "committed",
    "agreed_price",
    "approved_at",
    "decided_by",
)
PARAMETER = re.compile(r"\{[a-z_]+\}")


def _writes(spec: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """(path, method, writable field names) of every JSON write operation."""
    schemas = spec["components"]["schemas"]
    operations = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"post", "put", "patch"}:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            operations.append((path, method.upper(), set(schema.get("properties", {}))))
    return operations


def test_server_owned_fields_are_refused_on_every_write(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    spec = client.get("/openapi.json").get_json()
    everyone = build_user(db_session, roles=tuple(Role))
    headers = bearer_for(db_session, everyone)
    audit_rows_before = db_session.query(AuditEntry).count()
    checked = 0
    failures = []
    for path, method, writable in _writes(spec):
        url = PARAMETER.sub("01900000-0000-7000-8000-000000000000", path)
        for field in SERVER_OWNED:
            if field in writable:
                continue
            response = client.open(url, method=method, json={field: "x"}, headers=headers)
            checked += 1
            errors = (response.get_json(silent=True) or {}).get("errors", {})
            if response.status_code != 422 or field not in str(errors):
                failures.append(f"{method} {path} with {field!r}: {response.status_code}")
    print(f"mass assignment: {checked} write x field cases")
    assert checked > 0
    assert not failures, "\n".join(failures)
    assert db_session.query(AuditEntry).count() == audit_rows_before
