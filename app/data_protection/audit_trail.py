"""Who has looked at or changed a person's records: the person's view and the admin search."""

from __future__ import annotations

from typing import cast

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.audit import AuditEntry, record_audit
from app.pagination import Page, PageRequest, keyset_page
from auth.access import visible_people_clause
from auth.actor import Actor
from auth.models import User

AUDIT_SCOPE = "audit-trail"


def list_audit_trail_for_me(
    session: Session, *, actor: Actor, person_id: str | None, page: PageRequest
) -> Page[AuditEntry]:
    """Reads and changes of the records of the people the actor is (or acts for), newest first."""
    people = sorted(actor.own_person_ids)
    if person_id is not None:
        people = [p for p in people if p == person_id]
    stmt = select(AuditEntry).where(AuditEntry.subject_person_id.in_(people))
    return keyset_page(
        session,
        stmt,
        keys=[AuditEntry.occurred_at, AuditEntry.id],
        page=page,
        scope=f"{AUDIT_SCOPE}:{person_id or '*'}",
        descending=True,
    )


def search_audit_log(
    session: Session,
    *,
    actor: Actor,
    person_id: str | None,
    record_type: str | None,
    record_id: str | None,
    page: PageRequest,
) -> Page[AuditEntry]:
    """An admin's search of the log, limited to the people of their commissioner; audited."""
    stmt = select(AuditEntry).where(
        or_(
            visible_people_clause(actor, cast(ColumnElement[str], AuditEntry.subject_person_id)),
            AuditEntry.subject_person_id.is_(None),
        )
    )
    if person_id is not None:
        stmt = stmt.where(AuditEntry.subject_person_id == person_id)
    if record_type is not None:
        stmt = stmt.where(AuditEntry.record_type == record_type)
    if record_id is not None:
        stmt = stmt.where(AuditEntry.record_id == record_id)
    result = keyset_page(
        session,
        stmt,
        keys=[AuditEntry.occurred_at, AuditEntry.id],
        page=page,
        scope=f"audit-search:{person_id}:{record_type}:{record_id}",
        descending=True,
    )
    record_audit(
        session,
        actor=actor,
        action="search",
        record_type="audit_log",
        record_id=None,
        subject_person_id=person_id,
        details={"record_type": record_type, "record_id": record_id},
    )
    session.commit()
    return result


def actor_names(session: Session, entries: list[AuditEntry]) -> dict[str, tuple[str, list[str]]]:
    """Display name and roles of each acting user in `entries`, in one query."""
    user_ids = {e.actor_user_id for e in entries if e.actor_user_id}
    if not user_ids:
        return {}
    users = session.scalars(select(User).where(User.id.in_(sorted(user_ids)))).all()
    return {u.id: (u.display_name, sorted(u.roles)) for u in users}
