"""Retention: the clock is moved forward and the command deletes or pseudonymises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit import AuditEntry, record_audit
from app.data_protection.models import Pseudonymisation
from app.data_protection.retention import PSEUDONYM_NAME, apply_retention
from app.notifications import Notification, notify
from auth.models import OAuthToken, Person, User
from budgets.funding.models import Budget
from budgets.ledger.models import LedgerEntry
from tests.budgets.builders import build_budget
from tests.builders import bearer_for, build_person_user
from tests.conftest import is_postgres

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def _end(budget: Budget, on: date) -> None:
    budget.status = "ended"
    budget.ended_on = on
    budget.period_end = on


def test_money_records_stay_but_the_person_is_pseudonymised_after_the_period(
    db_session: Session,
) -> None:
    user = build_person_user(db_session, nhs_number="9434765919", postcode="LS6 2AB")
    person = db_session.get(Person, user.person_id)
    budget = build_budget(db_session, person=person)
    _end(budget, date(2018, 3, 31))
    bearer_for(db_session, user)
    ledger_rows = db_session.scalars(
        select(LedgerEntry).where(LedgerEntry.budget_id == budget.id)
    ).all()
    db_session.flush()

    report = apply_retention(db_session, now=NOW)

    assert report.pseudonymised_people == 1
    db_session.expire_all()
    person = db_session.get(Person, user.person_id)
    assert person is not None
    assert (person.given_name, person.nhs_number, person.postcode) == (PSEUDONYM_NAME, None, None)
    login = db_session.get(User, user.id)
    assert login is not None and not login.is_active and login.password_hash is None
    assert "pseudonymised" in login.email
    assert db_session.scalars(select(OAuthToken).where(OAuthToken.user_id == user.id)).all() == []
    kept = db_session.scalars(select(LedgerEntry).where(LedgerEntry.budget_id == budget.id)).all()
    assert len(kept) == len(ledger_rows) > 0
    assert db_session.get(Budget, budget.id) is not None


def test_a_person_with_a_budget_still_in_its_period_keeps_their_identity(
    db_session: Session,
) -> None:
    user = build_person_user(db_session, given_name="Priya")
    person = db_session.get(Person, user.person_id)
    old = build_budget(db_session, person=person)
    _end(old, date(2015, 3, 31))
    build_budget(db_session, person=person)  # still active
    recently_ended = build_person_user(db_session, given_name="Recent")
    _end(
        build_budget(db_session, person=db_session.get(Person, recently_ended.person_id)),
        date(2024, 3, 31),
    )
    db_session.flush()

    assert apply_retention(db_session, now=NOW).pseudonymised_people == 0
    assert db_session.scalars(select(Pseudonymisation)).all() == []


def test_running_twice_pseudonymises_once(db_session: Session) -> None:
    user = build_person_user(db_session)
    _end(build_budget(db_session, person=db_session.get(Person, user.person_id)), date(2010, 3, 31))
    db_session.flush()
    assert apply_retention(db_session, now=NOW).pseudonymised_people == 1
    assert apply_retention(db_session, now=NOW).pseudonymised_people == 0


def test_old_notifications_and_dead_sessions_are_deleted_recent_ones_kept(
    db_session: Session,
) -> None:
    user = build_person_user(db_session)
    old, recent = notify(db_session, user_ids=[user.id], kind="x", title="old") + notify(
        db_session, user_ids=[user.id], kind="x", title="recent"
    )
    old.created_at = NOW - timedelta(days=400)
    recent.created_at = NOW - timedelta(days=10)
    bearer_for(db_session, user)
    token = db_session.scalars(select(OAuthToken).where(OAuthToken.user_id == user.id)).one()
    token.revoked_at = NOW - timedelta(days=31)
    db_session.flush()

    report = apply_retention(db_session, now=NOW)

    assert report.deleted["notifications"] == 1
    assert report.deleted["oauth_tokens"] == 1
    titles = db_session.scalars(select(Notification.title).where(Notification.user_id == user.id))
    assert list(titles) == ["recent"]


def test_retention_periods_are_configuration(db_session: Session) -> None:
    user = build_person_user(db_session)
    (note,) = notify(db_session, user_ids=[user.id], kind="x", title="t")
    note.created_at = NOW - timedelta(days=40)
    db_session.flush()
    assert (
        apply_retention(db_session, now=NOW, settings={"notifications": 30}).deleted[
            "notifications"
        ]
        == 1
    )


def test_audit_rows_go_only_after_their_period(db_session: Session) -> None:
    record_audit(
        db_session,
        actor=None,
        action="read",
        record_type="x",
        record_id="1",
        occurred_at=datetime(2016, 1, 1, tzinfo=UTC),
    )
    record_audit(db_session, actor=None, action="read", record_type="x", record_id="2")
    apply_retention(db_session, now=NOW)
    remaining = set(
        db_session.scalars(select(AuditEntry.record_id).where(AuditEntry.record_type == "x"))
    )
    assert remaining == {"2"}


def test_the_database_refuses_to_delete_young_audit_rows_on_postgres(
    db_session: Session,
) -> None:
    if not is_postgres():
        pytest.skip("the audit trigger exists on PostgreSQL; CI runs this there")
    entry_id = record_audit(db_session, actor=None, action="read", record_type="x", record_id="y")
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entry_id})


def test_the_flask_command_applies_retention_as_of_a_date(app, rolled_back) -> None:  # type: ignore[no-untyped-def]
    user = build_person_user(rolled_back.session)
    (note,) = notify(rolled_back.session, user_ids=[user.id], kind="x", title="t")
    note.created_at = datetime(2020, 1, 1, tzinfo=UTC)
    rolled_back.session.flush()
    result = app.test_cli_runner().invoke(args=["apply-retention", "--today", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert '"notifications": 1' in result.output
