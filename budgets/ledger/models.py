"""Ledger postings: each row is one leg of a balanced transaction; rows are never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow

# The accounts of a budget. Money flows commissioner -> unreleased -> available ->
# committed -> spent, and back along the same edges; `commissioner` is the outside world.
ACCOUNTS = ("commissioner", "unreleased", "available", "committed", "spent")
ENTRY_KINDS = (
    "allocation",
    "release",
    "commitment",
    "commitment_release",
    "spend",
    "spend_reversal",
    "refund",
    "adjustment",
    "recovery",
)


class LedgerEntry(IdMixin, Base):
    """One posting: a signed amount on one account of one funding stream (and plan line)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_budget_id_occurred_at", "budget_id", "occurred_at"),
        # Sums per stream and per line answered from the index alone (migration 0011).
        Index(
            "ix_ledger_entries_budget_stream_account",
            "budget_id",
            "funding_stream_id",
            "account",
            postgresql_include=["amount_pence"],
        ),
        Index(
            "ix_ledger_entries_line_account",
            "plan_line_id",
            "account",
            postgresql_include=["amount_pence"],
        ),
    )

    transaction_id: Mapped[str] = mapped_column(String(36))
    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"))
    funding_stream_id: Mapped[str] = mapped_column(ForeignKey("funding_streams.id"))
    plan_line_id: Mapped[str | None] = mapped_column(ForeignKey("plan_lines.id"))
    account: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    amount_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    cause_type: Mapped[str] = mapped_column(String(32))
    cause_id: Mapped[str | None] = mapped_column(String(64))
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    actor_client_id: Mapped[str | None] = mapped_column(String(64))
    on_behalf_of_person_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
