"""Requests read outside a transaction on PostgreSQL (no BEGIN or ROLLBACK round trips);
their first write or lock opens one, so their writes stay all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import AuditEntry, record_audit
from app.db import STANDS_ALONE, Database, get_db, get_session
from auth.models import Person
from budgets.ledger.models import LedgerEntry
from tests.budgets.builders import build_budget
from tests.builders import bearer_for, build_person_user
from tests.conftest import is_postgres

pytestmark = pytest.mark.skipif(
    not is_postgres(), reason="SQLite reads and writes in BEGIN IMMEDIATE transactions"
)
IDLE, IN_TRANSACTION = 0, 2  # psycopg.pq.TransactionStatus


@pytest.fixture
def scratch_table(engine: Engine) -> Iterator[str]:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE read_session_probe (v int PRIMARY KEY)"))
    try:
        yield "read_session_probe"
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE read_session_probe"))


def _status(session: Session) -> int:
    return int(session.connection().connection.dbapi_connection.info.transaction_status)


def _committed(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT v FROM read_session_probe ORDER BY v"))
        return list(rows.scalars())


def test_a_select_leaves_no_transaction_open(engine: Engine) -> None:
    with Database(engine).request_session_factory() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        assert _status(session) == IDLE


def test_a_write_opens_a_transaction_that_a_failure_rolls_back_whole(
    engine: Engine, scratch_table: str
) -> None:
    with Database(engine).request_session_factory() as session:
        session.execute(text("SELECT 1"))
        session.execute(text("INSERT INTO read_session_probe VALUES (1)"))
        assert _status(session) == IN_TRANSACTION
        with pytest.raises(IntegrityError):
            session.execute(text("INSERT INTO read_session_probe VALUES (1)"))
        session.rollback()
    assert _committed(engine) == []


def test_a_row_lock_opens_a_transaction(engine: Engine, scratch_table: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO read_session_probe VALUES (7)"))
    with Database(engine).request_session_factory() as session:
        session.execute(text("SELECT v FROM read_session_probe WHERE v = 7 FOR NO KEY UPDATE"))
        assert _status(session) == IN_TRANSACTION


def test_writes_commit_together(engine: Engine, scratch_table: str) -> None:
    with Database(engine).request_session_factory() as session:
        session.execute(text("INSERT INTO read_session_probe VALUES (1)"))
        session.execute(text("INSERT INTO read_session_probe VALUES (2)"))
        assert _committed(engine) == []
        session.commit()
    assert _committed(engine) == [1, 2]


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_a_connection_that_wrote_goes_back_to_the_pool_reading_outside_a_transaction(
    engine: Engine, scratch_table: str, ending: str
) -> None:
    database = Database(engine)
    database.request_engine.dispose()  # so the next session gets the connection that wrote
    with database.request_session_factory() as session:
        session.execute(text("INSERT INTO read_session_probe VALUES (1)"))
        wrote_on = session.connection().connection.dbapi_connection
        getattr(session, ending)()
    with database.request_session_factory() as session:
        assert session.execute(text("SELECT count(*) FROM read_session_probe")).scalar_one() == (
            1 if ending == "commit" else 0
        )
        assert session.connection().connection.dbapi_connection is wrote_on
        assert _status(session) == IDLE


def test_requests_defer_the_transaction_and_commands_do_not(committed_app: Flask) -> None:
    with committed_app.test_request_context("/v1/anything", method="POST"):
        session = get_session()
        session.execute(text("SELECT 1"))
        assert _status(session) == IDLE
    with committed_app.app_context():  # a command or a job: no request
        session = get_session()
        session.execute(text("SELECT 1"))
        assert _status(session) == IN_TRANSACTION


def test_a_write_marked_as_standing_alone_commits_by_itself(
    engine: Engine, scratch_table: str
) -> None:
    alone = text("INSERT INTO read_session_probe VALUES (1)").execution_options(
        **{STANDS_ALONE: True}
    )
    with Database(engine).request_session_factory() as session:
        session.execute(alone)
        assert _status(session) == IDLE
        assert _committed(engine) == [1]
        session.execute(text("INSERT INTO read_session_probe VALUES (2)"))
        session.rollback()
    assert _committed(engine) == [1]


def test_a_read_audit_row_commits_at_once_and_a_change_audit_row_waits(
    committed_app: Flask, engine: Engine
) -> None:
    def audit_rows() -> int:
        with Session(engine) as reader:
            return int(reader.execute(select(func.count(AuditEntry.id))).scalar_one())

    before = audit_rows()
    for method, expected in (("GET", before + 1), ("POST", before + 1)):
        with committed_app.test_request_context("/v1/anything", method=method):
            session = get_session()
            record_audit(session, actor=None, action="probe", record_type="probe", record_id="1")
            assert audit_rows() == expected
            session.rollback()
    assert audit_rows() == before + 1


def test_a_read_posts_due_releases_and_its_audit_row_durably(
    committed_app: Flask, engine: Engine
) -> None:
    session = get_db(committed_app).session_factory()
    user = build_person_user(session)
    person = session.get(Person, user.person_id)
    budget = build_budget(
        session, person=person, release_schedule="monthly", today=date(2026, 4, 1)
    )
    headers = bearer_for(session, user)
    session.commit()
    budget_id = budget.id
    session.close()

    def count(statement: object) -> int:
        with Session(engine) as reader:
            return int(reader.execute(statement).scalar_one())  # type: ignore[call-overload]

    entries = select(func.count(LedgerEntry.id)).where(LedgerEntry.budget_id == budget_id)
    audits = select(func.count(AuditEntry.id)).where(AuditEntry.record_id == budget_id)
    entries_before, audits_before = count(entries), count(audits)

    response = committed_app.test_client().get(f"/v1/budgets/{budget_id}/balances", headers=headers)

    assert response.status_code == 200, response.get_json()
    assert count(entries) > entries_before  # this month's release and those before it
    assert count(audits) > audits_before
