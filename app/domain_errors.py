"""Errors that services raise, free of Flask, each tied to a stable problem type.

`app/errors.py` renders them as RFC 9457 problem+json. The `slug` of each class is part
of the public contract: clients switch on `type`, so a slug is never renamed.
"""

from __future__ import annotations

from typing import Any

# slug -> (HTTP status, title, what it means for the caller)
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "bad-request": (400, "Bad request", "The request could not be read as sent."),
    "invalid-cursor": (400, "Invalid cursor", "The pagination cursor is not one we issued."),
    "unauthorized": (401, "Authentication required", "Send a valid bearer access token."),
    "forbidden": (403, "Forbidden", "Your role does not allow this action."),
    "insufficient-scope": (
        403,
        "Insufficient scope",
        "The access token was not granted the scope this action needs.",
    ),
    "not-found": (404, "Not found", "No such record, or it is not yours to see."),
    "method-not-allowed": (405, "Method not allowed", "This path does not accept that method."),
    "not-acceptable": (406, "Not acceptable", "We can only answer in the listed formats."),
    "conflict": (409, "Conflict", "The request conflicts with the current state of a record."),
    "invalid-state": (
        409,
        "Invalid state",
        "The record is not in a state that allows this action.",
    ),
    "idempotency-key-in-use": (
        409,
        "Request already in progress",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    ),
    "precondition-failed": (
        412,
        "Precondition failed",
        "The record changed since you read it (If-Match did not match). Re-read and retry.",
    ),
    "payload-too-large": (413, "Payload too large", "The request body is over the size limit."),
    "unsupported-media-type": (
        415,
        "Unsupported media type",
        "Send the request body as application/json.",
    ),
    "validation-error": (
        422,
        "Validation error",
        "Some fields are missing or invalid; see `errors` for each field.",
    ),
    "idempotency-key-reused": (
        422,
        "Idempotency-Key reused",
        "This Idempotency-Key was already used with a different request body.",
    ),
    "rule-violation": (
        422,
        "Not allowed by the budget rules",
        "The change breaks a rule of personal health budgets; see `code` and `detail`.",
    ),
    "upgrade-required": (
        426,
        "App update required",
        "This version of the app is no longer supported. Please update the app.",
    ),
    "precondition-required": (
        428,
        "Precondition required",
        "Send If-Match with the ETag you last read, so changes are not overwritten.",
    ),
    "rate-limited": (429, "Too many requests", "Slow down and retry after Retry-After seconds."),
    "internal-error": (
        500,
        "Internal server error",
        "Something went wrong on our side. Nothing was changed; quote the request id.",
    ),
    "service-unavailable": (
        503,
        "Service unavailable",
        "A service we depend on is unavailable; retry later.",
    ),
}


class DomainError(Exception):
    """Base of the errors services raise; rendered as problem+json."""

    slug = "bad-request"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions

    @property
    def status(self) -> int:
        return PROBLEM_TYPES[self.slug][0]

    @property
    def title(self) -> str:
        return PROBLEM_TYPES[self.slug][1]


class BadRequest(DomainError):
    slug = "bad-request"


class InvalidCursor(DomainError):
    slug = "invalid-cursor"


class Unauthorized(DomainError):
    slug = "unauthorized"


class Forbidden(DomainError):
    slug = "forbidden"


class InsufficientScope(DomainError):
    slug = "insufficient-scope"


class NotFound(DomainError):
    slug = "not-found"


class Conflict(DomainError):
    slug = "conflict"


class InvalidState(DomainError):
    slug = "invalid-state"


class PreconditionFailed(DomainError):
    slug = "precondition-failed"


class PreconditionRequired(DomainError):
    slug = "precondition-required"


class ValidationFailed(DomainError):
    """Field-level validation failure: `errors` maps each field to its messages."""

    slug = "validation-error"

    def __init__(self, errors: dict[str, Any], detail: str | None = None) -> None:
        super().__init__(detail or "Some fields are missing or invalid.", errors=errors)


class RuleViolation(DomainError):
    """A budget or plan rule refused the change; `code` is machine-readable."""

    slug = "rule-violation"

    def __init__(self, code: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail, code=code, **extensions)
        self.code = code
