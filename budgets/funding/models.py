"""Budgets, funding streams, budget changes and the commissioner's local funding policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, utcnow

# Funding stream kinds, and whether each is NHS or council money (drives review rules).
STREAM_KINDS = {
    "nhs_continuing_healthcare": "nhs",
    "s117_aftercare": "nhs",
    "other_nhs": "nhs",
    "council_social_care": "council",
}
HOLDING_OPTIONS = ("direct_payment", "notional", "third_party")
RELEASE_SCHEDULES = ("all_at_once", "monthly", "quarterly")
BUDGET_STATUSES = ("active", "suspended", "ended")


class Budget(IdMixin, TimestampMixin, Base):
    """A personal health budget allocated to a person for a period."""

    __tablename__ = "budgets"
    # Every posting rewrites the row's running sums (`ledger_sums`): room left on each page
    # lets PostgreSQL keep the new version on the same page, without new index entries.
    __table_args__ = (
        Index("ix_budgets_person_id_id", "person_id", "id"),
        {"postgresql_with": {"fillfactor": 80}},
    )

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    commissioner_id: Mapped[str] = mapped_column(ForeignKey("commissioners.id"), index=True)
    broker_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    period_start: Mapped[date]
    period_end: Mapped[date]
    holding_options: Mapped[list[str]] = mapped_column(JSON, default=list)
    release_schedule: Mapped[str] = mapped_column(String(16), default="all_at_once")
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    status_reason: Mapped[str | None] = mapped_column(String(1000))
    ended_on: Mapped[date | None]
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    # Optimistic concurrency: the ETag is derived from this number.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The ledger's running sums, kept by every posting (budgets/ledger/sums.py); loaded
    # only where the money is checked or shown.
    ledger_sums: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}", deferred=True
    )

    streams: Mapped[list[FundingStream]] = relationship(
        back_populates="budget", order_by="FundingStream.id", lazy="selectin"
    )


class FundingStream(IdMixin, TimestampMixin, Base):
    """One source of money within a budget (e.g. NHS CHC, council social care).

    The amount is not stored here: it is the stream's allocation in the ledger.
    """

    __tablename__ = "funding_streams"

    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Plan line categories this stream may not pay for.
    excluded_categories: Mapped[list[str]] = mapped_column(JSON, default=list)

    budget: Mapped[Budget] = relationship(back_populates="streams")

    @property
    def regime(self) -> str:
        """`nhs` or `council`: whose rules (reviews, regulations) apply."""
        return STREAM_KINDS[self.kind]


class BudgetChange(IdMixin, Base):
    """An adjustment, suspension, reinstatement, ending or recovery, with its reason."""

    __tablename__ = "budget_changes"
    __table_args__ = (Index("ix_budget_changes_budget_id_id", "budget_id", "id"),)

    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"))
    # increase | reduction | recovery | suspension | reinstatement | ending
    kind: Mapped[str] = mapped_column(String(16))
    funding_stream_id: Mapped[str | None] = mapped_column(ForeignKey("funding_streams.id"))
    amount_pence: Mapped[int | None]
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    notice_given_on: Mapped[date | None]
    effective_on: Mapped[date]
    # scheduled (waiting for its effective date) | applied
    status: Mapped[str] = mapped_column(String(16), default="applied")
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]


class FundingPolicy(IdMixin, TimestampMixin, Base):
    """A commissioner's local rules from a date on: review intervals, notice, alerts.

    The newest policy whose `effective_from` is on or before the day in question applies;
    without one, `DEFAULT_POLICY` does.
    """

    __tablename__ = "funding_policies"

    commissioner_id: Mapped[str] = mapped_column(ForeignKey("commissioners.id"), index=True)
    effective_from: Mapped[date]
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


DEFAULT_POLICY: dict[str, Any] = {
    # NHS direct payments: first review within 3 months, then at least every 12.
    "nhs_first_review_months": 3,
    # Council direct payments: first review within 6 months, then at least every 12.
    "council_first_review_months": 6,
    "later_review_months": 12,
    # Minimum written notice before a reduction takes effect.
    "reduction_notice_days": 28,
    # Spending alerts: available below this share of allocation is "running low";
    # spent below this share of the time-elapsed plan is "underspent".
    "low_balance_percent": 10,
    "underspend_percent": 50,
}
