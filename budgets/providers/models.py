"""Provider organisations (companies, charities, NHS trusts, self-employed personal
assistants) and the areas they serve."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin


class OrganisationKind(StrEnum):
    INDIVIDUAL = "individual"  # a self-employed personal assistant
    COMPANY = "company"
    CHARITY = "charity"
    NHS_TRUST = "nhs_trust"


class OrganisationStatus(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class AreaKind(StrEnum):
    POSTCODE_DISTRICT = "postcode_district"  # the outward code, e.g. "LS6"
    COUNCIL_AREA = "council_area"  # an ONS GSS code, e.g. "E08000035"


class ProviderOrganisation(IdMixin, TimestampMixin, Base):
    """An organisation or self-employed individual offering services to budget holders."""

    __tablename__ = "provider_organisations"
    __table_args__ = (Index("ix_provider_organisations_status_id", "status", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=OrganisationStatus.UNVERIFIED)
    # Set when the organisation delivers care regulated by the Care Quality Commission.
    delivers_regulated_care: Mapped[bool] = mapped_column(Boolean, default=False)
    cqc_registration_number: Mapped[str | None] = mapped_column(String(16))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(300))
    # Why it was last rejected or suspended, shown to its staff.
    status_reason: Mapped[str | None] = mapped_column(String(1000))
    status_changed_at: Mapped[datetime | None]
    status_changed_by: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)

    areas: Mapped[list[ProviderArea]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="ProviderArea.code",
        lazy="selectin",
    )

    @property
    def areas_served(self) -> list[str]:
        return sorted(area.code for area in self.areas)

    @property
    def is_bookable(self) -> bool:
        """Only verified providers publish offers and take bookings."""
        return self.status == OrganisationStatus.VERIFIED


class ProviderArea(Base):
    """A postcode district or council area a provider organisation serves."""

    __tablename__ = "provider_service_areas"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("provider_organisations.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))

    organisation: Mapped[ProviderOrganisation] = relationship(back_populates="areas")
