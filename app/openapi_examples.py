"""Examples for every JSON request and success body, built from the schemas themselves.

An app developer reading the docs (or a generated client's tests) wants to see a body,
not only its schema. A view may give its own example; every other body gets one derived
from its schema: `example` metadata on fields first, then the first value of an enum,
then a value that fits the field's type, format and name. Request examples leave out
read-only fields, so they show what a client actually sends.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin

EXAMPLE_ID = "01935f2a-7b3c-7d4e-8f90-1a2b3c4d5e6f"
_MAX_DEPTH = 5
_BY_FORMAT: dict[str, Any] = {
    "date": "2026-04-01",
    "date-time": "2026-04-01T09:30:00Z",
    "email": "priya.shah@example.org",
    "uri": "https://example.org/",
    "url": "https://example.org/",
    "uuid": EXAMPLE_ID,
}


class ExamplesPlugin(BasePlugin):
    """Fills in `example` for JSON request and 2xx response bodies that have none."""

    def init_spec(self, spec: APISpec) -> None:
        self._spec = spec

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            body = operation.get("requestBody")
            if isinstance(body, dict):
                self._fill(body.get("content", {}), for_request=True)
            for status, response in (operation.get("responses") or {}).items():
                if str(status).startswith("2") and isinstance(response, dict):
                    self._fill(response.get("content", {}), for_request=False)

    def _fill(self, content: dict[str, Any], *, for_request: bool) -> None:
        media = content.get("application/json")
        if not isinstance(media, dict) or "example" in media or media.get("examples"):
            return
        schema = media.get("schema")
        if schema is None:
            return
        media["example"] = self.example_for(schema, for_request=for_request)

    def _resolve(self, schema: Any) -> dict[str, Any]:
        while isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self._spec.components.schemas.get(name, {})
        return schema if isinstance(schema, dict) else {}

    def example_for(self, schema: Any, *, for_request: bool, name: str = "", depth: int = 0) -> Any:
        """A plausible value for `schema` (a JSON Schema dict or a reference to one)."""
        schema = self._resolve(schema)
        if "example" in schema:
            return schema["example"]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        if schema.get("enum"):
            return next((v for v in schema["enum"] if v is not None), None)
        for combined in ("allOf", "oneOf", "anyOf"):
            if schema.get(combined):
                return self.example_for(
                    schema[combined][0], for_request=for_request, name=name, depth=depth
                )
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            if depth >= _MAX_DEPTH:
                return {}
            return {
                key: self.example_for(prop, for_request=for_request, name=key, depth=depth + 1)
                for key, prop in (schema.get("properties") or {}).items()
                if not (for_request and self._resolve(prop).get("readOnly"))
            }
        if kind == "array":
            if depth >= _MAX_DEPTH:
                return []
            item = self.example_for(
                schema.get("items", {}), for_request=for_request, name=name, depth=depth + 1
            )
            return [item]
        return _scalar(kind, schema, name)


def _scalar(kind: Any, schema: dict[str, Any], name: str) -> Any:
    if kind == "boolean":
        return True
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1 if "amount" not in name else 2500)
    if kind == "number":
        return max(float(schema.get("minimum", 1.5)), 1.5)
    if kind == "null":
        return None
    fmt = schema.get("format")
    if fmt in _BY_FORMAT:
        return _BY_FORMAT[fmt]
    if name == "id" or name.endswith("_id"):
        return EXAMPLE_ID
    if name == "currency":
        return "GBP"
    if name in ("next_cursor", "cursor"):
        return None if name == "next_cursor" else "eyJzIjoiYnVkZ2V0cyJ9.c2lnbmVk"
    text = name.replace("_", " ") if name else "text"
    min_length = int(schema.get("minLength", 0))
    max_length = int(schema.get("maxLength", 200))
    return text.ljust(min_length, ".")[:max_length]
