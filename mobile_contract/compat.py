"""The breaking-change checker: what an app built against the old document would trip on.

An installed app keeps its version for months, so a change is breaking when a request the
old app sends may now be refused, or a response it reads may no longer parse or carry what
it expects. `find_breaking_changes(old, new)` reports:

- `removed-path` / `removed-operation`, unless the old document marked the operation
  deprecated with an `x-sunset` date that has passed;
- `changed-status-code`: a success status the old document promised is gone;
- `removed-response-field`: a response field is gone, renamed, or no longer always there;
- `changed-type`: a response field may now hold a type the app has not seen;
- `new-required-request-field` / `new-required-parameter`: the old app does not send it;
- `removed-request-field` / `removed-parameter`: unknown input is rejected, so what the
  old app sends would now be a 422;
- `narrowed-enum` / `narrowed-type`: an input value the old app may send is now refused
  (fewer enum values, fewer types, tighter lengths or ranges).

Additive changes pass: new paths and operations, new optional inputs, new response
fields, new enum values in responses (the guide tells the app to tolerate unknown values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
JSON_MEDIA = "application/json"
_TEMPLATE = re.compile(r"\{[^}]+\}")
_MAX_DEPTH = 24


@dataclass(frozen=True)
class BreakingChange:
    """One way the new document breaks an app built against the old one."""

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.detail}"


class Resolver:
    """Follows `$ref`s inside one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not isinstance(ref, str) or not ref.startswith("#/"):
                return {}
            seen.add(ref)
            target: Any = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part, {}) if isinstance(target, dict) else {}
            node = target
        return node if isinstance(node, dict) else {}

    def schema(self, node: Any) -> dict[str, Any]:
        """The schema with refs followed and `allOf` parts merged."""
        schema = dict(self.resolve(node))
        parts = schema.pop("allOf", None)
        if not parts:
            return schema
        merged: dict[str, Any] = {"properties": {}, "required": []}
        for part in [*parts, schema]:
            resolved = self.schema(part)
            merged["properties"].update(resolved.get("properties", {}))
            merged["required"].extend(resolved.get("required", []))
            for key, value in resolved.items():
                if key not in ("properties", "required"):
                    merged[key] = value
        return merged


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return set()
    found = {declared} if isinstance(declared, str) else set(declared)
    if schema.get("nullable"):
        found.add("null")
    return found


def _sunset_passed(operation: dict[str, Any], today: date) -> bool:
    if not operation.get("deprecated"):
        return False
    sunset = operation.get("x-sunset")
    try:
        return bool(sunset) and date.fromisoformat(str(sunset)) <= today
    except ValueError:
        return False


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Operations keyed by `METHOD /path/{}` (path parameter names do not matter)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                key = f"{method.upper()} {_TEMPLATE.sub('{}', path)}"
                found[key] = (f"{method.upper()} {path}", item[method])
    return found


class _Comparison:
    def __init__(self, old: dict[str, Any], new: dict[str, Any], today: date) -> None:
        self.old = Resolver(old)
        self.new = Resolver(new)
        self.today = today
        self.changes: list[BreakingChange] = []

    def add(self, kind: str, where: str, detail: str) -> None:
        self.changes.append(BreakingChange(kind, where, detail))

    def run(self) -> list[BreakingChange]:
        old_ops = _operations(self.old.document)
        new_ops = _operations(self.new.document)
        new_paths = {key.split(" ", 1)[1] for key in new_ops}
        for key, (label, old_op) in old_ops.items():
            if key not in new_ops:
                if _sunset_passed(old_op, self.today):
                    continue
                path = key.split(" ", 1)[1]
                kind = "removed-operation" if path in new_paths else "removed-path"
                self.add(kind, label, "the operation is gone (deprecate it with a sunset first)")
                continue
            self.operation(label, old_op, new_ops[key][1])
        return self.changes

    def operation(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.parameters(where, old.get("parameters") or [], new.get("parameters") or [])
        self.request_body(where, old.get("requestBody"), new.get("requestBody"))
        old_responses = old.get("responses") or {}
        new_responses = new.get("responses") or {}
        for status, old_response in old_responses.items():
            if not str(status).startswith(("2", "3")):
                continue
            if status not in new_responses:
                new_success = sorted(s for s in new_responses if str(s).startswith(("2", "3")))
                self.add(
                    "changed-status-code",
                    where,
                    f"{status} is no longer returned (now {', '.join(new_success) or 'none'})",
                )
                continue
            old_body = self._json_schema(self.old, old_response)
            new_body = self._json_schema(self.new, new_responses[status])
            if old_body is None:
                continue
            if new_body is None:
                self.add("removed-response-field", f"{where} {status}", "the body is gone")
                continue
            self.response_schema(f"{where} {status} body", old_body, new_body, 0)

    @staticmethod
    def _json_schema(resolver: Resolver, node: Any) -> Any:
        content = resolver.resolve(node).get("content") or {}
        media = content.get(JSON_MEDIA) or content.get("application/problem+json")
        if not isinstance(media, dict) or "schema" not in media:
            return None
        return media["schema"]

    def parameters(self, where: str, old: list[Any], new: list[Any]) -> None:
        def keyed(resolver: Resolver, params: list[Any]) -> dict[tuple[str, str], Any]:
            found = {}
            for param in params:
                resolved = resolver.resolve(param)
                name = str(resolved.get("name", ""))
                location = str(resolved.get("in", ""))
                if location == "path":
                    name = "{}"  # path parameter names are not part of the contract
                if location == "header":
                    name = name.lower()
                found[(location, name)] = resolved
            return found

        old_params = keyed(self.old, old)
        new_params = keyed(self.new, new)
        for key, param in new_params.items():
            if key[0] == "path":
                continue
            was = old_params.get(key)
            if param.get("required") and not (was and was.get("required")):
                self.add(
                    "new-required-parameter",
                    where,
                    f"{key[0]} parameter {param.get('name')!r} is now required",
                )
        for key, param in old_params.items():
            label = f"{where} {key[0]} parameter {param.get('name')!r}"
            if key not in new_params:
                if key[0] in ("query", "path"):
                    self.add("removed-parameter", where, f"{label} is no longer accepted")
                continue
            self.request_schema(
                label, param.get("schema") or {}, new_params[key].get("schema") or {}, 0
            )

    def request_body(self, where: str, old: Any, new: Any) -> None:
        if new is None:
            return
        new_body = self.new.resolve(new)
        if old is None:
            if new_body.get("required"):
                self.add("new-required-request-field", where, "a request body is now required")
            return
        old_schema = self._json_schema(self.old, old)
        new_schema = self._json_schema(self.new, new)
        if old_schema is not None and new_schema is not None:
            self.request_schema(f"{where} request body", old_schema, new_schema, 0)

    def request_schema(self, where: str, old_node: Any, new_node: Any, depth: int) -> None:
        """Input the old app sends must still be accepted."""
        if depth > _MAX_DEPTH:
            return
        old = self.old.schema(old_node)
        new = self.new.schema(new_node)
        old_types, new_types = _types(old), _types(new)
        if new_types and (old_types - new_types or not old_types):
            lost = ", ".join(sorted(old_types - new_types)) or "any type"
            self.add("narrowed-type", where, f"no longer accepts {lost}")
        if "enum" in new:
            removed = [v for v in old.get("enum", []) if v not in new["enum"]]
            if "enum" not in old:
                self.add("narrowed-enum", where, f"now limited to {new['enum']}")
            elif removed:
                self.add("narrowed-enum", where, f"no longer accepts {removed}")
        self._bounds(where, old, new)
        old_props = old.get("properties") or {}
        new_props = new.get("properties") or {}
        old_required = set(old.get("required") or [])
        for name in new.get("required") or []:
            if name not in old_required:
                self.add(
                    "new-required-request-field", f"{where}.{name}", "the field is now required"
                )
        for name, schema in old_props.items():
            if name not in new_props:
                if new.get("additionalProperties") is not True:
                    self.add(
                        "removed-request-field", f"{where}.{name}", "the field is now rejected"
                    )
                continue
            self.request_schema(f"{where}.{name}", schema, new_props[name], depth + 1)
        if "items" in old and "items" in new:
            self.request_schema(f"{where}[]", old["items"], new["items"], depth + 1)

    def _bounds(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key, tighter in (
            ("maxLength", lambda o, n: n < o),
            ("maximum", lambda o, n: n < o),
            ("maxItems", lambda o, n: n < o),
            ("minLength", lambda o, n: n > o),
            ("minimum", lambda o, n: n > o),
            ("minItems", lambda o, n: n > o),
        ):
            if key in new and (key not in old or tighter(old[key], new[key])):
                self.add("narrowed-type", where, f"{key} tightened to {new[key]}")
        if "pattern" in new and new.get("pattern") != old.get("pattern"):
            self.add("narrowed-type", where, f"pattern changed to {new['pattern']!r}")

    def response_schema(self, where: str, old_node: Any, new_node: Any, depth: int) -> None:
        """What the old app reads must still be there, with a type it can parse."""
        if depth > _MAX_DEPTH:
            return
        old = self.old.schema(old_node)
        new = self.new.schema(new_node)
        old_types, new_types = _types(old), _types(new)
        if old_types and (new_types - old_types or not new_types):
            added = ", ".join(sorted(new_types - old_types)) or "any type"
            self.add("changed-type", where, f"may now be {added}")
        old_props = old.get("properties") or {}
        new_props = new.get("properties") or {}
        new_required = set(new.get("required") or [])
        for name in old.get("required") or []:
            if name in new_props and name not in new_required:
                self.add(
                    "removed-response-field",
                    f"{where}.{name}",
                    "the field is no longer always sent",
                )
        for name, schema in old_props.items():
            if name not in new_props:
                self.add("removed-response-field", f"{where}.{name}", "the field is gone")
                continue
            self.response_schema(f"{where}.{name}", schema, new_props[name], depth + 1)
        if "items" in old and "items" in new:
            self.response_schema(f"{where}[]", old["items"], new["items"], depth + 1)


def find_breaking_changes(
    old: dict[str, Any], new: dict[str, Any], *, today: date | None = None
) -> list[BreakingChange]:
    """Every change in `new` that would break an app built against `old`."""
    return _Comparison(old, new, today or datetime.now(UTC).date()).run()
