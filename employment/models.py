"""IPS employment support records: services, specialists, referrals and the work done with
each person, employers and jobs, dated rates, job-outcome rules and fidelity reviews.

Zero exclusion is built into the shape of these tables: nothing here can hold a reason to
refuse someone for their diagnosis, substance use, housing, benefits or criminal record.
Refusal and discharge reasons are closed lists (see `employment.rules`), never free text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin


class IpsService(IdMixin, TimestampMixin, Base):
    """An IPS employment service run by a verified provider and funded by a commissioner."""

    __tablename__ = "ips_services"

    provider_organisation_id: Mapped[str] = mapped_column(
        ForeignKey("provider_organisations.id"), index=True
    )
    commissioner_id: Mapped[str] = mapped_column(ForeignKey("commissioners.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The community mental-health teams the specialists are integrated with.
    integrated_teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    caseload_limit_per_fte: Mapped[int] = mapped_column(Integer, default=20)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    areas: Mapped[list[ServiceArea]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ServiceArea.postcode_district"
    )

    @property
    def areas_served(self) -> list[str]:
        return [area.postcode_district for area in self.areas]


class ServiceArea(Base):
    """A postcode district (outward code, e.g. "LS6") an IPS service covers."""

    __tablename__ = "ips_service_areas"

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"), primary_key=True)
    postcode_district: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class EmploymentSpecialist(IdMixin, TimestampMixin, Base):
    """A provider staff member working as an employment specialist in one service."""

    __tablename__ = "ips_specialists"
    __table_args__ = (UniqueConstraint("service_id", "user_id"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    fte: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Referral(IdMixin, TimestampMixin, Base):
    """One person's episode with an IPS service, from referral to discharge."""

    __tablename__ = "ips_referrals"
    __table_args__ = (Index("ix_ips_referrals_service_id_status", "service_id", "status"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # self | broker | clinician
    referred_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    referred_by_client_id: Mapped[str | None] = mapped_column(String(64))
    referrer_team: Mapped[str | None] = mapped_column(String(200))
    # A care-plan outcome id (e.g. "get a job"); the FK is added when budgets lands.
    care_plan_outcome_id: Mapped[str | None] = mapped_column(String(36))
    in_work_at_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="received")
    received_on: Mapped[date]
    accepted_on: Mapped[date | None]
    first_contact_on: Mapped[date | None]
    active_on: Mapped[date | None]
    discharged_on: Mapped[date | None]
    closure_reason: Mapped[str | None] = mapped_column(String(48))
    specialist_id: Mapped[str | None] = mapped_column(ForeignKey("ips_specialists.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    service: Mapped[IpsService] = relationship()


class CaseloadAssignment(IdMixin, Base):
    """A referral put on a specialist's caseload, with the caseload and limit at the time."""

    __tablename__ = "ips_caseload_assignments"

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), index=True)
    specialist_id: Mapped[str] = mapped_column(ForeignKey("ips_specialists.id"), index=True)
    assigned_at: Mapped[datetime]
    caseload_before: Mapped[int] = mapped_column(Integer)
    caseload_limit: Mapped[int] = mapped_column(Integer)
    over_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(String(500))
    assigned_by_user_id: Mapped[str | None] = mapped_column(String(36))
    assigned_by_client_id: Mapped[str | None] = mapped_column(String(64))


class VocationalProfile(IdMixin, TimestampMixin, Base):
    """What work the person wants, what they bring, and their history (one per referral)."""

    __tablename__ = "ips_vocational_profiles"

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), unique=True)
    job_preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strengths: Mapped[list[str]] = mapped_column(JSON, default=list)
    work_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    education: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)


class DisclosureDiscussion(IdMixin, TimestampMixin, Base):
    """One conversation about whether and how to tell employers about the condition."""

    __tablename__ = "ips_disclosure_discussions"

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), index=True)
    discussed_on: Mapped[date]
    decision: Mapped[str] = mapped_column(String(16))  # full | partial | none | undecided
    approach: Mapped[str | None] = mapped_column(String(500))
    recorded_by_user_id: Mapped[str | None] = mapped_column(String(36))


class BenefitsPlanningSession(IdMixin, TimestampMixin, Base):
    """A work-incentive (benefits) planning session, with the dated UC rates it used."""

    __tablename__ = "ips_benefits_sessions"

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), index=True)
    held_on: Mapped[date]
    trigger: Mapped[str] = mapped_column(String(24))
    planned_monthly_earnings_pence: Mapped[int | None] = mapped_column(BigInteger)
    has_work_allowance: Mapped[bool | None] = mapped_column(Boolean)
    housing_costs_in_uc: Mapped[bool | None] = mapped_column(Boolean)
    work_allowance_pence: Mapped[int | None] = mapped_column(BigInteger)
    taper_basis_points: Mapped[int | None] = mapped_column(Integer)
    estimated_uc_reduction_pence: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")


class Contact(IdMixin, TimestampMixin, Base):
    """A contact made on a person's behalf: with them, an employer, their team, Jobcentre."""

    __tablename__ = "ips_contacts"
    __table_args__ = (
        Index("ix_ips_contacts_referral_id_occurred_on", "referral_id", "occurred_on"),
        # The measures' "latest contact with the person" per referral (migration 0013).
        Index(
            "ix_ips_contacts_referral_id_with_whom_occurred_on",
            "referral_id",
            "with_whom",
            "occurred_on",
        ),
    )

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"))
    specialist_id: Mapped[str | None] = mapped_column(ForeignKey("ips_specialists.id"))
    occurred_on: Mapped[date]
    with_whom: Mapped[str] = mapped_column(String(24))
    mode: Mapped[str] = mapped_column(String(16))  # in_person | remote
    setting: Mapped[str | None] = mapped_column(String(16))  # community | office
    # Set for in-work (follow-along) support after a job start.
    job_id: Mapped[str | None] = mapped_column(ForeignKey("ips_jobs.id"), index=True)


class Appointment(IdMixin, TimestampMixin, Base):
    """A planned meeting between a person and their specialist."""

    __tablename__ = "ips_appointments"

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), index=True)
    specialist_id: Mapped[str | None] = mapped_column(ForeignKey("ips_specialists.id"))
    starts_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # | cancelled


class Employer(IdMixin, TimestampMixin, Base):
    """An employer a service's specialists are building a relationship with."""

    __tablename__ = "ips_employers"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(100))


class EmployerContact(IdMixin, TimestampMixin, Base):
    """A specialist's contact with an employer (job development), for named people."""

    __tablename__ = "ips_employer_contacts"
    __table_args__ = (
        Index("ix_ips_employer_contacts_service_id_occurred_on", "service_id", "occurred_on"),
    )

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"))
    specialist_id: Mapped[str] = mapped_column(ForeignKey("ips_specialists.id"), index=True)
    employer_id: Mapped[str] = mapped_column(ForeignKey("ips_employers.id"), index=True)
    occurred_on: Mapped[date]
    face_to_face: Mapped[bool] = mapped_column(Boolean)
    purpose: Mapped[str] = mapped_column(String(24))

    people: Mapped[list[EmployerContactPerson]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class EmployerContactPerson(Base):
    """Which referrals (people) an employer contact was made for."""

    __tablename__ = "ips_employer_contact_people"

    employer_contact_id: Mapped[str] = mapped_column(
        ForeignKey("ips_employer_contacts.id"), primary_key=True
    )
    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), primary_key=True)


class Job(IdMixin, TimestampMixin, Base):
    """A job (or self-employment) a person started while with the service."""

    __tablename__ = "ips_jobs"

    referral_id: Mapped[str] = mapped_column(ForeignKey("ips_referrals.id"), index=True)
    employer_id: Mapped[str | None] = mapped_column(ForeignKey("ips_employers.id"))
    employer_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date]
    hours_per_week: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    hourly_pay_pence: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    is_self_employment: Mapped[bool] = mapped_column(Boolean, default=False)
    open_to_anyone: Mapped[bool] = mapped_column(Boolean, default=True)
    minimum_wage_pence: Mapped[int | None] = mapped_column(BigInteger)
    is_competitive: Mapped[bool] = mapped_column(Boolean)
    four_paid_hours_on: Mapped[date | None]
    end_date: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)


class DatedRate(IdMixin, Base):
    """A rate set by regulation (minimum wage by age, Universal Credit amounts), from a date."""

    __tablename__ = "ips_dated_rates"
    __table_args__ = (UniqueConstraint("kind", "min_age", "effective_from"),)

    kind: Mapped[str] = mapped_column(String(48))
    min_age: Mapped[int] = mapped_column(Integer, default=0)
    effective_from: Mapped[date]
    value: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(24))  # pence_per_hour | pence_per_month | basis_points


class OutcomeRule(IdMixin, TimestampMixin, Base):
    """A funder's job-outcome definition: hours per week for weeks within a window, at a pay."""

    __tablename__ = "ips_outcome_rules"
    __table_args__ = (UniqueConstraint("service_id", "name"),)

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    min_hours_per_week: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    weeks_required: Mapped[int] = mapped_column(Integer)
    within_weeks: Mapped[int] = mapped_column(Integer)
    min_hourly_pay_pence: Mapped[int | None] = mapped_column(BigInteger)
    requires_minimum_wage: Mapped[bool] = mapped_column(Boolean, default=True)


class FidelityReview(IdMixin, TimestampMixin, Base):
    """An IPS-25 fidelity review: 25 items scored 1-5, the total and its band."""

    __tablename__ = "ips_fidelity_reviews"

    service_id: Mapped[str] = mapped_column(ForeignKey("ips_services.id"), index=True)
    reviewed_on: Mapped[date]
    reviewer_name: Mapped[str] = mapped_column(String(200))
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(16))
    recorded_by_user_id: Mapped[str | None] = mapped_column(String(36))
