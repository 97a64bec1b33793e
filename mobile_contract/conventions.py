"""What every operation in the contract must document, checked over the whole document.

The app is generated from the document, so an undocumented answer is one the app cannot
handle. Each operation needs a summary; examples for its JSON request and success
bodies; and every error it can give, as problem+json with the problem `type`s listed:
401/403 when it needs a token, 404 when it addresses a record, 409/422 with
Idempotency-Key, 412/428 for updates (If-Match), 422 when it reads input, 426 under /v1
and 429 everywhere. A deprecated operation names its `x-sunset` date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from mobile_contract.compat import HTTP_METHODS, Resolver

PROBLEM_MEDIA = "application/problem+json"
JSON_MEDIA = "application/json"


def _resolve(document: dict[str, Any], node: Any) -> dict[str, Any]:
    return dict(Resolver(document).resolve(node))


def _has_example(media: dict[str, Any]) -> bool:
    return "example" in media or bool(media.get("examples"))


def _required_statuses(path: str, method: str, operation: dict[str, Any]) -> dict[int, str]:
    params = {
        (str(p.get("in")), str(p.get("name", "")).lower()) for p in operation.get("parameters", [])
    }
    needed = {429: "every request may be rate limited"}
    if path.startswith("/v1"):
        needed[426] = "the app version gate applies under /v1"
    if operation.get("security"):
        needed[401] = "it needs a bearer token"
        needed[403] = "a token may lack the scope or role"
    if "{" in path:
        needed[404] = "it addresses a record that may not exist or not be yours"
    if "requestBody" in operation or any(where == "query" for where, _ in params):
        needed[422] = "it reads input that can be invalid"
    if ("header", "idempotency-key") in params:
        needed[409] = "Idempotency-Key may be in use by a request still running"
        needed[422] = "Idempotency-Key may be reused with another body"
    if method in ("put", "patch") or ("header", "if-match") in params:
        needed[412] = "updates check If-Match"
    return needed


def operation_doc_problems(document: dict[str, Any]) -> list[str]:
    """Every way an operation in `document` falls short of the conventions, one line each."""
    problems: list[str] = []
    for path, item in sorted((document.get("paths") or {}).items()):
        path_params = item.get("parameters", []) if isinstance(item, dict) else []
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict):
                continue
            where = f"{method.upper()} {path}"
            merged = dict(operation)
            merged["parameters"] = [
                _resolve(document, p) for p in [*path_params, *operation.get("parameters", [])]
            ]
            problems += _check_operation(document, where, path, method, merged)
    return problems


def _check_operation(
    document: dict[str, Any], where: str, path: str, method: str, operation: dict[str, Any]
) -> list[str]:
    problems: list[str] = []
    if not str(operation.get("summary", "")).strip():
        problems.append(f"{where}: no summary (give the view a docstring)")
    responses = operation.get("responses") or {}
    for status, reason in sorted(_required_statuses(path, method, operation).items()):
        if str(status) not in responses:
            problems.append(f"{where}: does not document {status} ({reason})")
    for status, response in responses.items():
        resolved = _resolve(document, response)
        content = resolved.get("content") or {}
        json_media = content.get(JSON_MEDIA)
        if str(status).startswith("2") and json_media is not None and not _has_example(json_media):
            problems.append(f"{where}: {status} response has no example")
        if str(status)[0] in "45":
            if PROBLEM_MEDIA not in content:
                problems.append(f"{where}: {status} is not documented as {PROBLEM_MEDIA}")
            elif "/problems/" not in str(resolved.get("description", "")):
                problems.append(f"{where}: {status} does not list its problem types")
    body = _resolve(document, operation.get("requestBody"))
    media = (body.get("content") or {}).get(JSON_MEDIA)
    if isinstance(media, dict) and not _has_example(media):
        problems.append(f"{where}: request body has no example")
    if operation.get("deprecated"):
        try:
            date.fromisoformat(str(operation.get("x-sunset")))
        except ValueError:
            problems.append(f"{where}: deprecated without an x-sunset date (YYYY-MM-DD)")
    return problems
