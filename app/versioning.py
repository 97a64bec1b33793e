"""Optimistic concurrency for versioned records, free of Flask so services can use it.

A versioned record's ETag is derived from its id and `version`. Updates pass the
If-Match tags down to the service, which checks them after locking the row.
"""

from __future__ import annotations

import hashlib

from app.domain_errors import PreconditionFailed, PreconditionRequired


def version_etag(record_id: str, version: int) -> str:
    """The quoted strong ETag of one version of a record."""
    digest = hashlib.sha256(f"{record_id}:{version}".encode()).hexdigest()[:24]
    return f'"{digest}"'


def check_if_match(tags: list[str] | None, record_id: str, current_version: int) -> None:
    """Raise 428 when no If-Match was sent, 412 when it names another version."""
    if tags is None:
        raise PreconditionRequired()
    if "*" in tags:
        return
    if version_etag(record_id, current_version) not in tags:
        raise PreconditionFailed()
