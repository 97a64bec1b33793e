"""Ending the database transaction before Stripe is called (house rule 7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def end_transaction_keeping(session: Session, *records: Any) -> None:
    """Roll back the open transaction before a network call, keeping `records` readable.

    A rollback expires every loaded object, and reading one afterwards would quietly open a
    new transaction (on SQLite, taking the write lock) for the length of the call. Detached
    records keep the values already loaded.
    """
    for record in records:
        if record is not None and record in session:
            session.expunge(record)
    session.rollback()
