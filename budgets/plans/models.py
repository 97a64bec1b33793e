"""Care and support plans (one row per version), their outcomes, lines and decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, utcnow

LINE_CATEGORIES = (
    "personal_assistant",
    "therapy",
    "equipment",
    "transport",
    "short_breaks",
    "activities",
    "education_training",
    "technology",
    "other",
)
LINE_UNITS = ("hour", "session", "day", "week", "item")
LINE_FREQUENCIES = ("once", "weekly", "monthly", "quarterly", "yearly")
# draft -> submitted -> approved | changes_requested | declined; approved -> superseded;
# declined -> reconsideration_requested -> approved | declined.
PLAN_STATUSES = (
    "draft",
    "submitted",
    "changes_requested",
    "declined",
    "reconsideration_requested",
    "approved",
    "superseded",
)


class CarePlan(IdMixin, TimestampMixin, Base):
    """One version of a person's care and support plan for a budget."""

    __tablename__ = "care_plans"
    __table_args__ = (
        Index("ix_care_plans_budget_id_version_number", "budget_id", "version_number"),
    )

    budget_id: Mapped[str] = mapped_column(ForeignKey("budgets.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    previous_version_id: Mapped[str | None] = mapped_column(ForeignKey("care_plans.id"))
    status: Mapped[str] = mapped_column(String(32), default="draft")
    risks: Mapped[str] = mapped_column(Text, default="")
    review_arrangements: Mapped[str] = mapped_column(Text, default="")
    broker_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    approved_on: Mapped[date | None]
    nhs_review_due_on: Mapped[date | None]
    council_review_due_on: Mapped[date | None]
    # Optimistic concurrency: every change to the draft bumps it.
    version: Mapped[int] = mapped_column(Integer, default=1)

    outcomes: Mapped[list[PlanOutcome]] = relationship(
        back_populates="plan", order_by="PlanOutcome.position", lazy="selectin"
    )
    lines: Mapped[list[PlanLine]] = relationship(
        back_populates="plan", order_by="PlanLine.id", lazy="selectin"
    )

    @property
    def total_pence(self) -> int:
        """What the whole plan costs: the sum of its lines' planned totals."""
        return sum(line.planned_total_pence for line in self.lines)


class PlanOutcome(IdMixin, Base):
    """A health and wellbeing outcome, in the person's own words."""

    __tablename__ = "plan_outcomes"

    plan_id: Mapped[str] = mapped_column(ForeignKey("care_plans.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    plan: Mapped[CarePlan] = relationship(back_populates="outcomes")


class PlanLine(IdMixin, Base):
    """What will be bought: category, cost, amount, frequency, dates and who pays."""

    __tablename__ = "plan_lines"

    plan_id: Mapped[str] = mapped_column(ForeignKey("care_plans.id"), index=True)
    # The same line across plan versions shares a lineage, so its balance carries over.
    lineage_id: Mapped[str] = mapped_column(String(36), index=True)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(500))
    # Positions of the outcomes (1-based) this line serves.
    outcome_positions: Mapped[list[int]] = mapped_column(JSON, default=list)
    unit: Mapped[str] = mapped_column(String(16))
    unit_cost_pence: Mapped[int]
    quantity: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[date]
    end_date: Mapped[date]
    funding_stream_id: Mapped[str] = mapped_column(ForeignKey("funding_streams.id"))
    # The providers package owns offers; a plain id until the lead adds the foreign key.
    provider_offer_id: Mapped[str | None] = mapped_column(String(36))
    pays_household_family_member: Mapped[bool] = mapped_column(Boolean, default=False)
    household_agreement_by_user_id: Mapped[str | None] = mapped_column(String(36))
    household_agreement_at: Mapped[datetime | None]
    # unit cost x quantity x occurrences in the date range, fixed when the line is written.
    planned_total_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    # The broker's comment on this line when requesting changes or declining.
    review_comment: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[CarePlan] = relationship(back_populates="lines")

    @property
    def plan_status(self) -> str:
        return self.plan.status

    @property
    def budget_id(self) -> str:
        return self.plan.budget_id

    @property
    def person_id(self) -> str:
        return self.plan.person_id


class PlanDecision(IdMixin, Base):
    """An event in a plan's life: submission, decision, reconsideration, answer."""

    __tablename__ = "plan_decisions"
    __table_args__ = (Index("ix_plan_decisions_plan_id_id", "plan_id", "id"),)

    plan_id: Mapped[str] = mapped_column(ForeignKey("care_plans.id"))
    # submitted | approved | declined | changes_requested | reconsideration_requested |
    # reconsideration_upheld | reconsideration_approved
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    line_comments: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
