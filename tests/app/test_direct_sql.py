"""Statements run on the DBAPI cursor (app/direct_sql.py) answer as SQLAlchemy would, in
the session's transaction, seen by its listeners, with its errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Numeric,
    Table,
    bindparam,
    cast,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.db import Database, new_id
from app.direct_sql import DirectStatement, NotDirect, insert_rows
from tests.conftest import is_postgres

_COLUMNS = ("id", "occurred_at", "action", "record_type", "record_id", "details")
_INSERT = DirectStatement(
    insert(AuditEntry.__table__).values({name: bindparam(name) for name in _COLUMNS})  # type: ignore[arg-type]
)
# A fixed value compared in SQL, a LIMIT rendered into it, and converted result types.
_READ = (
    select(AuditEntry.id, AuditEntry.occurred_at, AuditEntry.details, AuditEntry.record_id)
    .where(AuditEntry.record_type == "direct-probe", AuditEntry.action == bindparam("action"))
    .order_by(AuditEntry.record_id)
    .limit(5)
)


def _row(**overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "occurred_at": datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        "action": "probe",
        "record_type": "direct-probe",
        "record_id": "r1",
        "details": {"amount_pence": 1250, "ids": ["a", "b"]},
        **overrides,
    }


def test_rows_are_what_sqlalchemy_returns_with_parameters_converted(db_session: Session) -> None:
    written = [_row(), _row(record_id="r2", details=None), _row(action="other")]
    for row in written:
        assert _INSERT.run(db_session, row) == 1

    direct = DirectStatement(_READ).rows(db_session, {"action": "probe"})

    through_sqlalchemy = db_session.execute(_READ, {"action": "probe"}).all()
    assert [tuple(row) for row in direct] == [tuple(row) for row in through_sqlalchemy]
    assert [row.id for row in direct] == [written[0]["id"], written[1]["id"]]
    assert direct[0].occurred_at == written[0]["occurred_at"]
    assert direct[0].occurred_at.tzinfo is not None
    assert direct[0].details == {"amount_pence": 1250, "ids": ["a", "b"]}
    assert direct[1].details is None


def test_every_row_of_a_multi_row_insert_is_converted_by_its_columns_types(
    db_session: Session,
) -> None:
    later = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
    rows = [_row(), _row(record_id="r2", occurred_at=later, details={"n": 2})]
    full_rows = [
        {"actor_user_id": None, "actor_client_id": None, "subject_person_id": None}
        | {"request_id": None}
        | row
        for row in rows
    ]
    insert_rows(db_session, AuditEntry.__table__, full_rows)  # type: ignore[arg-type]

    read = DirectStatement(_READ).rows(db_session, {"action": "probe"})
    assert [(row.occurred_at, row.details) for row in read] == [
        (rows[0]["occurred_at"], rows[0]["details"]),
        (later, {"n": 2}),
    ]


def test_first_is_none_when_nothing_matches(db_session: Session) -> None:
    assert DirectStatement(_READ).first(db_session, {"action": "nothing"}) is None


@pytest.mark.parametrize(
    "statement",
    [
        select(AuditEntry.id).where(AuditEntry.id.in_(bindparam("ids", expanding=True))),
        insert(AuditEntry.__table__).values(action=bindparam("action")),  # type: ignore[arg-type]
    ],
    ids=["expanding IN list", "defaults computed in Python"],
)
def test_statements_that_need_sqlalchemy_are_refused(db_session: Session, statement: Any) -> None:
    with pytest.raises(NotDirect):
        DirectStatement(statement).rows(db_session, {"ids": ["x"], "action": "probe"})


@pytest.mark.parametrize("moment", ["before_cursor_execute", "after_cursor_execute"])
def test_listeners_see_the_statement(db_session: Session, moment: str) -> None:
    seen: list[str] = []
    engine = db_session.get_bind().engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, moment, record)
    try:
        DirectStatement(_READ).rows(db_session, {"action": "probe"})
    finally:
        event.remove(engine, moment, record)
    assert [statement for statement in seen if "audit_entries" in statement] == [
        DirectStatement(_READ)._compiled(engine.dialect).sql
    ]


def test_a_database_error_is_sqlalchemys(db_session: Session) -> None:
    row = _row()
    _INSERT.run(db_session, row)
    with pytest.raises(IntegrityError):
        _INSERT.run(db_session, {**row, "occurred_at": row["occurred_at"] + timedelta(hours=1)})


_PROBE = Table("direct_sql_probe", MetaData(), Column("v", Integer, primary_key=True))
_PROBE_INSERT = insert(_PROBE).values(v=bindparam("v"))


@pytest.fixture
def probe_engine(engine: Engine) -> Iterator[Engine]:
    _PROBE.create(engine)
    try:
        yield engine
    finally:
        _PROBE.drop(engine)


def _committed(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.execute(select(_PROBE.c.v).order_by(_PROBE.c.v)).scalars())


@pytest.mark.skipif(not is_postgres(), reason="SQLite requests run in BEGIN IMMEDIATE")
def test_on_the_request_engine_a_write_opens_a_transaction_unless_it_stands_alone(
    probe_engine: Engine,
) -> None:
    write, alone = DirectStatement(_PROBE_INSERT), DirectStatement(_PROBE_INSERT, stands_alone=True)
    with Database(probe_engine).request_session_factory() as session:
        DirectStatement(select(_PROBE.c.v)).rows(session, {})
        alone.run(session, {"v": 1})
        assert _committed(probe_engine) == [1]  # committed by itself, at once
        write.run(session, {"v": 2})
        alone.run(session, {"v": 3})  # a transaction is open: it joins it
        assert _committed(probe_engine) == [1]
        session.rollback()
    assert _committed(probe_engine) == [1]


def test_numerics_convert_by_the_type_the_driver_reports(db_session: Session) -> None:
    statement = select(
        cast(bindparam("fte", type_=Numeric(4, 2)), Numeric(4, 2)).label("fte"),
        func.count().label("rows"),
    )
    (row,) = DirectStatement(statement).rows(db_session, {"fte": Decimal("0.75")})
    assert row == tuple(db_session.execute(statement, {"fte": Decimal("0.75")}).one())
    assert row.fte == Decimal("0.75")


def test_an_in_list_the_statement_carries_is_rendered_once(db_session: Session) -> None:
    for action in ("probe", "other", "third"):
        _INSERT.run(db_session, _row(action=action, record_id=action))
    statement = (
        select(AuditEntry.record_id)
        .where(AuditEntry.record_type == "direct-probe", AuditEntry.action.in_(["probe", "third"]))
        .order_by(AuditEntry.record_id)
    )
    assert [row.record_id for row in DirectStatement(statement).rows(db_session, {})] == [
        "probe",
        "third",
    ]
