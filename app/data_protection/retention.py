"""Retention: how long each kind of record is kept, and the command that applies it.

Periods are configuration (`RETENTION_DAYS`, overridable per deployment), following the
NHS Records Management Code of Practice in spirit: money records are kept for their legal
period and then pseudonymised, never deleted, so the commissioner's accounts still add
up; short-lived records (notifications, expired sign-in sessions) are deleted; audit rows
are deleted only after their own long period, and the database refuses anything younger
(see the migration that installs the audit trigger).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, exists, not_, or_, select, update
from sqlalchemy.orm import Session

from app.audit import AuditEntry, record_audit
from app.data_protection.models import Pseudonymisation
from app.notifications import Notification
from auth.models import (
    OAuthAuthorizationCode,
    OAuthToken,
    PasswordReset,
    Person,
    Representation,
    User,
)
from budgets.funding.models import Budget

DEFAULT_RETENTION_DAYS: dict[str, int] = {
    # Budgets, ledger, plans: the person is pseudonymised this long after their last
    # budget ended (financial records: six years after the end of the financial year).
    "financial": 7 * 365,
    "audit_entries": 8 * 365,
    "notifications": 365,
    # Sign-in sessions that expired or were revoked this long ago.
    "oauth_tokens": 30,
}
PSEUDONYM_NAME = "Pseudonymised"


@dataclass
class RetentionReport:
    deleted: dict[str, int] = field(default_factory=dict)
    pseudonymised_people: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"deleted": self.deleted, "pseudonymised_people": self.pseudonymised_people}


def retention_days(settings: dict[str, int] | None) -> dict[str, int]:
    return {**DEFAULT_RETENTION_DAYS, **(settings or {})}


def apply_retention(
    session: Session, *, now: datetime, settings: dict[str, int] | None = None
) -> RetentionReport:
    """Delete and pseudonymise what has passed its retention period; one transaction."""
    days = retention_days(settings)
    report = RetentionReport()
    report.deleted["notifications"] = _delete(
        session,
        delete(Notification).where(
            Notification.created_at < now - timedelta(days=days["notifications"])
        ),
    )
    token_cutoff = now - timedelta(days=days["oauth_tokens"])
    report.deleted["oauth_tokens"] = _delete(
        session,
        delete(OAuthToken).where(
            or_(
                OAuthToken.revoked_at < token_cutoff,
                and_(
                    OAuthToken.access_expires_at < token_cutoff,
                    or_(
                        OAuthToken.family_expires_at.is_(None),
                        OAuthToken.family_expires_at < token_cutoff,
                    ),
                ),
            )
        ),
    )
    # Codes and reset links are useless once expired; kept a while for investigation.
    report.deleted["oauth_authorization_codes"] = _delete(
        session,
        delete(OAuthAuthorizationCode).where(OAuthAuthorizationCode.expires_at < token_cutoff),
    )
    report.deleted["password_resets"] = _delete(
        session, delete(PasswordReset).where(PasswordReset.expires_at < token_cutoff)
    )
    report.deleted["audit_entries"] = _delete(
        session,
        delete(AuditEntry).where(
            AuditEntry.occurred_at < now - timedelta(days=days["audit_entries"])
        ),
    )
    report.pseudonymised_people = _pseudonymise_people(
        session, cutoff=(now - timedelta(days=days["financial"])).date(), now=now
    )
    record_audit(
        session,
        actor=None,
        action="retention.apply",
        record_type="retention",
        record_id=None,
        details=report.as_dict(),
    )
    session.commit()
    return report


def _delete(session: Session, statement: Any) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)


def _pseudonymise_people(session: Session, *, cutoff: date, now: datetime) -> int:
    """People whose every budget ended before `cutoff` (and who had one) lose their identity."""
    still_held = exists().where(
        Budget.person_id == Person.id,
        or_(Budget.status != "ended", Budget.period_end >= cutoff, Budget.ended_on >= cutoff),
    )
    had_budget = exists().where(Budget.person_id == Person.id)
    done = exists().where(Pseudonymisation.person_id == Person.id)
    due = list(session.scalars(select(Person.id).where(had_budget, not_(still_held), not_(done))))
    for person_id in due:
        _pseudonymise(session, person_id=person_id, now=now)
    return len(due)


def _pseudonymise(session: Session, *, person_id: str, now: datetime) -> None:
    session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(
            given_name=PSEUDONYM_NAME,
            family_name=PSEUDONYM_NAME,
            date_of_birth=None,
            nhs_number=None,
            postcode=None,
        )
    )
    user_ids = list(session.scalars(select(User.id).where(User.person_id == person_id)))
    for user_id in user_ids:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(
                email=f"pseudonymised-{user_id}@invalid",
                display_name=PSEUDONYM_NAME,
                password_hash=None,
                is_active=False,
            )
        )
    if user_ids:
        session.execute(delete(OAuthToken).where(OAuthToken.user_id.in_(user_ids)))
        session.execute(delete(Notification).where(Notification.user_id.in_(user_ids)))
    session.execute(
        update(Representation)
        .where(Representation.person_id == person_id, Representation.ended_at.is_(None))
        .values(ended_at=now)
    )
    session.add(Pseudonymisation(person_id=person_id, pseudonymised_at=now, rule="financial"))
