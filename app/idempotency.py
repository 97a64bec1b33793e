"""Safe retries: `Idempotency-Key` on POSTs that create things or move money.

A key is scoped to the caller (user or client) and kept for IDEMPOTENCY_KEY_TTL_HOURS.
A finished 2xx response is stored and replayed byte for byte to later retries; the same
key with a different request is a 422. When the work fails, nothing is stored, and the
client may retry with the same key.

`@idempotent` does the work first and stores its response last, in the work's own
transaction and in its last statement: the view's own commits are held
(`WorkSession.commits_held`) until then, and the record's INSERT carries the work's held
rows. The unique (caller, key) is what makes it once: a retry, or a duplicate sent while
the first is still running, does the work in its own transaction, and its INSERT finds
the key taken (waiting for the first to commit, if it has not), so its work is rolled
back and the first's response replayed. A retry whose work fails (the first booking took
the money the second would need) is answered the same way, from the stored response.
So a first request, which is nearly every request, costs one statement here, where
claiming the key before the work cost two (the claim, then its completion); a retry does
the work before it is answered. A worker that dies leaves nothing, so a retry does the
work once, never twice.

Views that must commit before calling an outside service (a payment recorded before
Stripe is asked to move it) use `@idempotent_in_steps`: the claim commits before the work,
so a concurrent duplicate sees it and gets 409; the view's commits stand, the response is
stored after them, and a retry relies on the outside call being idempotent itself. A
claim left in progress by a worker that died is taken over once its lock times out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, make_response, request
from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import STANDS_ALONE, Base, IdMixin, get_session, new_id, utcnow
from app.direct_sql import DirectStatement
from app.domain_errors import BadRequest, DomainError
from app.request_locals import current_request

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_REPLAYED_RESPONSE_HEADERS = ("Content-Type", "Location", "ETag")

F = TypeVar("F", bound=Callable[..., Any])


class IdempotencyKeyInUse(DomainError):
    slug = "idempotency-key-in-use"


class IdempotencyKeyReused(DomainError):
    slug = "idempotency-key-reused"


class IdempotencyRecord(IdMixin, Base):
    """A claimed Idempotency-Key and, once finished, the response it produced."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    caller: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(255))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_progress | completed
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)


def _caller_scope() -> str:
    actor = g.get("actor")
    if actor is not None and getattr(actor, "user_id", None):
        return f"user:{actor.user_id}"
    if actor is not None and getattr(actor, "client_id", None):
        return f"client:{actor.client_id}"
    return f"anonymous:{request.remote_addr}"


def _fingerprint() -> str:
    request_now = current_request()
    raw = request_now.get_data(cache=True)
    try:
        body: Any = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.decode("latin-1")
    material = f"{request_now.method}\n{request_now.full_path}\n{body}"
    return hashlib.sha256(material.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body or "", status=record.response_status or 200)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


_CLAIM_COLUMNS = ("id", "caller", "key", "request_fingerprint", "state", "locked_at", "expires_at")


def _insert_for(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def _claim_statement(dialect: str) -> DirectStatement:
    return DirectStatement(
        _insert_for(dialect)(IdempotencyRecord.__table__)
        .values({name: bindparam(name) for name in _CLAIM_COLUMNS})
        .on_conflict_do_nothing(index_elements=["caller", "key"])
        .returning(IdempotencyRecord.__table__.c.id),
        stands_alone=True,
    )


_RECORD_COLUMNS = (*_CLAIM_COLUMNS, "response_status", "response_body", "response_headers")


def _record_statement(dialect: str) -> DirectStatement:
    """The finished request's record, unless a live one holds the key. A record that has
    expired, or a claim in progress whose worker died (`@idempotent_in_steps`) for the
    same request, gives way to it."""
    table = IdempotencyRecord.__table__
    insert = _insert_for(dialect)(table).values({name: bindparam(name) for name in _RECORD_COLUMNS})
    taken_over = [name for name in _RECORD_COLUMNS if name not in ("id", "caller", "key")]
    return DirectStatement(
        insert.on_conflict_do_update(
            index_elements=["caller", "key"],
            set_={name: insert.excluded[name] for name in taken_over},
            where=(table.c.expires_at <= bindparam("now"))
            | (
                (table.c.state == "in_progress")
                & (table.c.locked_at <= bindparam("stale_before"))
                & (table.c.request_fingerprint == insert.excluded.request_fingerprint)
            ),
        ),
        stands_alone=True,
        carries_held_rows=True,  # the work's last writes commit with its stored response
    )


# Every write that carries a key runs one of these, built once per dialect and run on the
# cursor (app/direct_sql.py).
_CLAIM_STATEMENTS = {dialect: _claim_statement(dialect) for dialect in ("postgresql", "sqlite")}
_RECORD_STATEMENTS = {dialect: _record_statement(dialect) for dialect in ("postgresql", "sqlite")}


def _insert_claim(session: Session, values: dict[str, Any]) -> str | None:
    """Insert the claim unless the key is already held; the new row's id, or None."""
    statement = _CLAIM_STATEMENTS[session.get_bind().dialect.name]
    row = statement.first(session, {"id": new_id(), **values})
    return None if row is None else str(row.id)


def _claim_settings(caller: str, key: str, fingerprint: str, state: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "caller": caller,
        "key": key,
        "request_fingerprint": fingerprint,
        "state": state,
        "locked_at": now,
        "expires_at": now + timedelta(hours=current_app.config["IDEMPOTENCY_KEY_TTL_HOURS"]),
    }


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["IDEMPOTENCY_LOCK_TIMEOUT_SECONDS"])


def _earlier_answer(
    session: Session, *, caller: str, key: str, fingerprint: str
) -> Response | None:
    """What an earlier request with this key answers this one with: its stored response
    replayed, or a refusal (raised); None when no live record holds the key."""
    existing = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
        )
    ).first()
    if existing is None or existing.expires_at <= utcnow():
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.state == "completed":
        return _replay(existing)
    raise IdempotencyKeyInUse()


def _stored_response(response: Response) -> dict[str, Any]:
    """The record's columns that keep the response to replay."""
    return {
        "response_status": response.status_code,
        "response_body": response.get_data(as_text=True),
        "response_headers": {
            name: response.headers[name]
            for name in _REPLAYED_RESPONSE_HEADERS
            if name in response.headers
        },
    }


def _record(
    session: Session, *, caller: str, key: str, fingerprint: str, response: Response
) -> bool:
    """Store the finished request's response with the work's held rows (one INSERT);
    False when a live record already holds the key."""
    values = _claim_settings(caller, key, fingerprint, "completed")
    statement = _RECORD_STATEMENTS[session.get_bind().dialect.name]
    stored = statement.run(
        session,
        {
            "id": new_id(),
            **values,
            **_stored_response(response),
            "now": values["locked_at"],
            "stale_before": _stale_before(values["locked_at"]),
        },
    )
    return stored == 1


def _once_with_the_work(view: Callable[..., Any], key: str, args: Any, kwargs: Any) -> Response:
    session = get_session()
    caller, fingerprint = _caller_scope(), _fingerprint()
    try:
        with session.commits_held():
            response = make_response(view(*args, **kwargs))
    except Exception:
        session.rollback()  # nothing of the work was committed
        earlier = _earlier_answer(session, caller=caller, key=key, fingerprint=fingerprint)
        if earlier is None:
            raise
        return earlier
    except BaseException:
        session.rollback()
        raise
    if not 200 <= response.status_code < 300:
        earlier = _earlier_answer(session, caller=caller, key=key, fingerprint=fingerprint)
        if earlier is not None:
            session.rollback()
            return earlier
        session.commit()  # what the view wrote beside its refusal; nothing is stored
        return response
    try:
        recorded = _record(
            session, caller=caller, key=key, fingerprint=fingerprint, response=response
        )
    except BaseException:
        session.rollback()
        raise
    if recorded:
        session.commit()
        return response
    # An earlier request holds the key: its answer stands, and this work goes.
    session.rollback()
    earlier = _earlier_answer(session, caller=caller, key=key, fingerprint=fingerprint)
    if earlier is None:  # it expired, or was purged, in between
        raise IdempotencyKeyInUse()
    return earlier


def _claim(session: Session, *, caller: str, key: str, fingerprint: str) -> str | Response:
    """Claim the key for this request and commit the claim (its record id), or answer
    from (or refuse because of) an earlier one. A first use is one INSERT; only a retry
    reads the earlier row."""
    claim = _claim_settings(caller, key, fingerprint, "in_progress")
    now = claim["locked_at"]
    claimed_id = _insert_claim(session, claim)
    if claimed_id is not None:
        session.commit()
        return claimed_id
    existing = session.scalars(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
        .with_for_update()
    ).first()
    if existing is None or existing.expires_at <= now:
        if existing is not None:
            session.delete(existing)
            session.flush()
        claimed_id = _insert_claim(session, claim)
        if claimed_id is None:  # another retry took it in between
            session.rollback()
            raise IdempotencyKeyInUse()
        session.commit()
        return claimed_id
    if existing.request_fingerprint != fingerprint:
        session.rollback()
        raise IdempotencyKeyReused()
    if existing.state == "completed":
        session.rollback()
        return _replay(existing)
    if existing.locked_at > _stale_before(now):
        session.rollback()
        raise IdempotencyKeyInUse()
    # The earlier attempt died without finishing; this retry takes the claim over.
    existing.locked_at = now
    session.commit()
    return existing.id


def _release(session: Session, record_id: str) -> None:
    session.rollback()
    session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .execution_options(**{STANDS_ALONE: True})
    )
    session.commit()


_COMPLETE_CLAIM = DirectStatement(
    update(IdempotencyRecord.__table__)  # type: ignore[arg-type]
    .where(IdempotencyRecord.__table__.c.id == bindparam("record_id"))
    .values(
        state="completed",
        response_status=bindparam("response_status"),
        response_body=bindparam("response_body"),
        response_headers=bindparam("response_headers", type_=JSON),
    ),
    stands_alone=True,
)


def _complete(session: Session, record_id: str, response: Response) -> None:
    """Complete the committed claim with the response to replay (one UPDATE)."""
    _COMPLETE_CLAIM.run(session, {"record_id": record_id, **_stored_response(response)})
    session.commit()


def _once_in_steps(view: Callable[..., Any], key: str, args: Any, kwargs: Any) -> Response:
    session = get_session()
    claimed = _claim(session, caller=_caller_scope(), key=key, fingerprint=_fingerprint())
    if isinstance(claimed, Response):
        return claimed
    try:
        response = make_response(view(*args, **kwargs))
        session.rollback()  # the view committed its work; nothing else may join
        if 200 <= response.status_code < 300:
            _complete(session, claimed, response)
            return response
    except BaseException:
        _release(session, claimed)
        raise
    _release(session, claimed)
    return response


def _run_once(
    view: Callable[..., Any], once: Callable[[Callable[..., Any], str, Any, Any], Response]
) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise BadRequest("Idempotency-Key must be 1 to 255 printable characters.")
        return once(view, key, args, kwargs)

    _document_header(wrapper)
    return wrapper


def _document_header(wrapper: Callable[..., Any]) -> None:
    doc = cast(Any, wrapper).__dict__.setdefault("_apidoc", {})
    doc.setdefault("manual_doc", {}).setdefault("parameters", []).append(
        {
            "in": "header",
            "name": IDEMPOTENCY_HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": (
                "A unique key per intended operation (a UUID is ideal). Retrying with the "
                "same key and body replays the original response instead of acting twice."
            ),
        }
    )


def idempotent(view: F) -> F:
    """Honour `Idempotency-Key` on this POST: replay, refuse a reuse, or run once. The
    work and its stored response commit together."""
    return cast(F, _run_once(view, _once_with_the_work))


def idempotent_in_steps(view: F) -> F:
    """`idempotent` for a view whose commits must stand as they happen (it calls an outside
    service between them); the response is stored after the last one."""
    return cast(F, _run_once(view, _once_in_steps))


def purge_expired_idempotency_records(session: Session) -> int:
    """Delete records past their retention; returns how many went."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
