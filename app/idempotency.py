"""Safe retries: `Idempotency-Key` on POSTs that create things or move money.

A key is scoped to the caller (user or client) and kept for IDEMPOTENCY_KEY_TTL_HOURS.
The first request claims the key by inserting its record. A finished 2xx response is
stored and replayed byte for byte to later retries; the same key with a different request
is a 422. When the work fails, nothing was committed by it, so the claim goes too and the
client may retry with the same key.

`@idempotent` claims the key in the work's own transaction and commits the work and its
stored response in it: the view's own commits are held (`WorkSession.commits_held`)
until the response is stored. A concurrent duplicate's claim waits on the first one's
uncommitted row, then replays the stored response (or, if the first failed, does the
work itself). A worker that dies leaves nothing, so a retry does the work once, never
twice; and no separate commit of the claim is paid for.

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
    raw = request.get_data(cache=True)
    try:
        body: Any = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.decode("latin-1")
    material = f"{request.method}\n{request.full_path}\n{body}"
    return hashlib.sha256(material.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body or "", status=record.response_status or 200)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


_CLAIM_COLUMNS = ("id", "caller", "key", "request_fingerprint", "state", "locked_at", "expires_at")


def _claim_statement(dialect: str, *, stands_alone: bool) -> DirectStatement:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return DirectStatement(
        insert(IdempotencyRecord.__table__)  # type: ignore[arg-type]
        .values({name: bindparam(name) for name in _CLAIM_COLUMNS})
        .on_conflict_do_nothing(index_elements=["caller", "key"])
        .returning(IdempotencyRecord.__table__.c.id),
        stands_alone=stands_alone,
    )


# Every write that carries a key runs one of these: built once per dialect and mode, and
# run on the cursor (app/direct_sql.py). A claim committed by itself, or one that opens
# the work's transaction.
_CLAIM_STATEMENTS = {
    (dialect, stands_alone): _claim_statement(dialect, stands_alone=stands_alone)
    for dialect in ("postgresql", "sqlite")
    for stands_alone in (True, False)
}


def _insert_claim(session: Session, values: dict[str, Any], *, with_work: bool) -> str | None:
    """Insert the claim unless the key is already held; the new row's id, or None."""
    statement = _CLAIM_STATEMENTS[(session.get_bind().dialect.name, not with_work)]
    row = statement.first(session, {"id": new_id(), **values})
    return None if row is None else str(row.id)


def _claim(
    session: Session, *, caller: str, key: str, fingerprint: str, with_work: bool
) -> str | Response:
    """Claim the key for this request (its record id), or answer from (or refuse because
    of) an earlier one. A first use is one INSERT; only a retry reads the earlier row.

    `with_work`: the claim is left uncommitted, in the transaction the work and its stored
    response then commit in; otherwise it commits at once, before the work."""
    now = utcnow()
    config = current_app.config
    claim = {
        "caller": caller,
        "key": key,
        "request_fingerprint": fingerprint,
        "state": "in_progress",
        "locked_at": now,
        "expires_at": now + timedelta(hours=config["IDEMPOTENCY_KEY_TTL_HOURS"]),
    }
    stale_after = timedelta(seconds=config["IDEMPOTENCY_LOCK_TIMEOUT_SECONDS"])
    claimed_id = _insert_claim(session, claim, with_work=with_work)
    if claimed_id is not None:
        if not with_work:
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
        claimed_id = _insert_claim(session, claim, with_work=with_work)
        if claimed_id is None:  # another retry took it in between
            session.rollback()
            raise IdempotencyKeyInUse()
        if not with_work:
            session.commit()
        return claimed_id
    if existing.request_fingerprint != fingerprint:
        session.rollback()
        raise IdempotencyKeyReused()
    if existing.state == "completed":
        session.rollback()
        return _replay(existing)
    if now - existing.locked_at < stale_after:
        session.rollback()
        raise IdempotencyKeyInUse()
    # The earlier attempt died without finishing; this retry takes the claim over.
    existing.locked_at = now
    if with_work:
        session.flush()
    else:
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
        response_status=bindparam("status"),
        response_body=bindparam("body"),
        response_headers=bindparam("headers", type_=JSON),
    ),
    stands_alone=True,
    carries_held_rows=True,  # the work's last writes commit with its stored response
)


def _store(session: Session, record_id: str, response: Response) -> None:
    """Complete the claim with the response to replay (one UPDATE, no read first) and
    commit it with whatever the session holds."""
    completed = _COMPLETE_CLAIM.run(
        session,
        {
            "record_id": record_id,
            "status": response.status_code,
            "body": response.get_data(as_text=True),
            "headers": {
                name: response.headers[name]
                for name in _REPLAYED_RESPONSE_HEADERS
                if name in response.headers
            },
        },
    )
    if completed != 1:
        # A view that rolled back its session took an uncommitted claim with it: committing
        # its work without the stored response would let a retry do it again.
        raise RuntimeError("the Idempotency-Key claim was rolled back by the view")
    session.commit()


def _run_once(view: Callable[..., Any], *, hold_commits: bool) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise BadRequest("Idempotency-Key must be 1 to 255 printable characters.")
        session = get_session()
        claimed = _claim(
            session,
            caller=_caller_scope(),
            key=key,
            fingerprint=_fingerprint(),
            with_work=hold_commits,
        )
        if isinstance(claimed, Response):
            return claimed
        record_id = claimed
        try:
            if hold_commits:
                with session.commits_held():
                    response = make_response(view(*args, **kwargs))
            else:
                response = make_response(view(*args, **kwargs))
                session.rollback()  # the view committed its work; nothing else may join
            if 200 <= response.status_code < 300:
                _store(session, record_id, response)
                return response
            session.commit()
        except BaseException:
            if hold_commits:
                session.rollback()  # the claim goes with the work: nothing was committed
            else:
                _release(session, record_id)
            raise
        _release(session, record_id)
        return response

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
    return cast(F, _run_once(view, hold_commits=True))


def idempotent_in_steps(view: F) -> F:
    """`idempotent` for a view whose commits must stand as they happen (it calls an outside
    service between them); the response is stored after the last one."""
    return cast(F, _run_once(view, hold_commits=False))


def purge_expired_idempotency_records(session: Session) -> int:
    """Delete records past their retention; returns how many went."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
