"""Subject access: everything held about a person, as one machine-readable bundle.

Built from the data inventory, so every personal table is included by construction.
Money movements are also given as CSV (`files["ledger.csv"]`) for spreadsheets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.data_protection.inventory import HOLDINGS, Category, Subject
from app.db import utcnow

# Sections that also get a CSV file, and the function that writes it.
CsvWriter = Callable[[list[dict[str, Any]]], str]
CSV_FILES: dict[str, tuple[str, CsvWriter]] = {}


def rows_as_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV with a header line (columns in the order of the first row)."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


CSV_FILES["ledger"] = ("ledger.csv", rows_as_csv)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row_as_dict(row: object, redacted: tuple[str, ...]) -> dict[str, Any]:
    mapper = inspect(type(row))
    return {
        column.key: _plain(getattr(row, column.key))
        for column in mapper.column_attrs
        if column.key not in redacted
    }


def build_export(session: Session, *, subject: Subject, actor: Any) -> dict[str, Any]:
    """Every personal record about the subject, by section, plus CSV files; audited."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for holding in HOLDINGS:
        if holding.category is not Category.PERSONAL or holding.finder is None:
            continue
        rows = session.scalars(holding.finder(subject)).all()
        sections[holding.export_name or holding.table] = [
            _row_as_dict(row, holding.redacted) for row in rows
        ]
    files = {
        filename: writer(sections.get(section, []))
        for section, (filename, writer) in CSV_FILES.items()
    }
    record_audit(
        session,
        actor=actor,
        action="export",
        record_type="person",
        record_id=subject.person_id,
        subject_person_id=subject.person_id,
        details={"sections": sorted(sections)},
    )
    session.commit()
    return {
        "generated_at": utcnow(),
        "person_id": subject.person_id,
        "sections": sections,
        "files": files,
    }
