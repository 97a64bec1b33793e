"""Offers and the areas each is delivered in.

Search reads `offers` joined to verified organisations; the indexes below serve its
filters and both sort orders, and on PostgreSQL a GIN index serves free-text search.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.dialects import postgresql  # noqa: F401 (registers to_tsvector's types)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin
from budgets.providers.models import ProviderOrganisation

SEARCH_LANGUAGE = "english"


class OfferStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class DeliveryMode(StrEnum):
    IN_PERSON = "in_person"  # at the person's home or in the community, in listed areas
    ONLINE = "online"
    AT_PREMISES = "at_premises"  # at the provider's premises


class Offer(IdMixin, TimestampMixin, Base):
    """A service a provider sells at a price per unit. Bookings copy the price they agree."""

    __tablename__ = "offers"
    __table_args__ = (
        Index(
            "ix_offers_status_category_price_pence_id", "status", "category", "price_pence", "id"
        ),
        Index("ix_offers_status_price_pence_id", "status", "price_pence", "id"),
        Index("ix_offers_organisation_id_id", "organisation_id", "id"),
    )

    organisation_id: Mapped[str] = mapped_column(ForeignKey("provider_organisations.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(4000))
    category: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    price_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    delivers_in_person: Mapped[bool] = mapped_column(Boolean, default=False)
    delivers_online: Mapped[bool] = mapped_column(Boolean, default=False)
    delivers_at_premises: Mapped[bool] = mapped_column(Boolean, default=False)
    premises_postcode: Mapped[str | None] = mapped_column(String(10))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility_notes: Mapped[str] = mapped_column(String(2000), default="")
    # Cancellation terms: cancelling with less notice than this before the start costs
    # `cancellation_charge_percent` of the booking's agreed total.
    cancellation_notice_hours: Mapped[int] = mapped_column(Integer, default=24)
    cancellation_charge_percent: Mapped[int] = mapped_column(Integer, default=0)
    accepting_new_people: Mapped[bool] = mapped_column(Boolean, default=True)
    # At most this many open bookings at once; None for no limit.
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.DRAFT)
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    organisation: Mapped[ProviderOrganisation] = relationship(lazy="raise")
    areas: Mapped[list[OfferArea]] = relationship(
        back_populates="offer",
        cascade="all, delete-orphan",
        order_by="OfferArea.code",
        lazy="selectin",
    )

    @property
    def delivery_modes(self) -> list[str]:
        modes = [
            (self.delivers_in_person, DeliveryMode.IN_PERSON),
            (self.delivers_online, DeliveryMode.ONLINE),
            (self.delivers_at_premises, DeliveryMode.AT_PREMISES),
        ]
        return [str(mode) for on, mode in modes if on]

    @property
    def price(self) -> dict[str, Any]:
        return {"amount": self.price_pence, "currency": self.currency}

    @property
    def cancellation_terms(self) -> dict[str, int]:
        return {
            "notice_hours": self.cancellation_notice_hours,
            "charge_percent": self.cancellation_charge_percent,
        }

    @property
    def organisation_name(self) -> str:
        return self.organisation.name

    @property
    def area_codes(self) -> list[str]:
        """Where the offer is delivered in person (the premises' district is kept apart)."""
        return sorted(a.code for a in self.areas if a.via == DeliveryMode.IN_PERSON)


class OfferArea(Base):
    """An area an offer reaches: in person there, or at premises in that postcode district."""

    __tablename__ = "offer_areas"
    __table_args__ = (Index("ix_offer_areas_code_via_offer_id", "code", "via", "offer_id"),)

    offer_id: Mapped[str] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    via: Mapped[str] = mapped_column(String(16), primary_key=True)  # in_person | at_premises
    code: Mapped[str] = mapped_column(String(10), primary_key=True)

    offer: Mapped[Offer] = relationship(back_populates="areas")


def search_vector() -> ColumnElement[Any]:
    """The weighted text-search document of an offer (PostgreSQL): title above description."""
    columns = Offer.__table__.c
    # Text (not literal columns) so the Index below finds its table from the real columns.
    language = text(f"'{SEARCH_LANGUAGE}'")
    title = func.setweight(func.to_tsvector(language, columns.title), text("'A'"))
    description = func.setweight(func.to_tsvector(language, columns.description), text("'B'"))
    return title.op("||")(description)


# Serves free-text search; PostgreSQL only (SQLite searches with LIKE, see offers/search.py).
Index("ix_offers_search_vector", search_vector(), postgresql_using="gin").ddl_if(
    dialect="postgresql"
)
