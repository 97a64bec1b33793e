"""Offers and the areas each is delivered in.

Search reads `offers` joined to verified organisations; the indexes below serve its
filters and both sort orders, and on PostgreSQL a GIN index serves free-text search.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
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
        # Serves free-text search on PostgreSQL (on SQLite the column stays empty).
        Index("ix_offers_search_document", "search_document", postgresql_using="gin"),
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
    # The weighted text-search document (title above description), kept by a PostgreSQL
    # trigger so ranking reads it instead of re-parsing every match. Never loaded.
    search_document: Mapped[str | None] = mapped_column(
        Text().with_variant(TSVECTOR(), "postgresql"), deferred=True
    )

    organisation: Mapped[ProviderOrganisation] = relationship(lazy="raise")
    areas: Mapped[list[OfferArea]] = relationship(
        back_populates="offer",
        cascade="all, delete-orphan",
        order_by="OfferArea.code",
        lazy="selectin",
    )

    @property
    def delivery_modes(self) -> list[str]:
        return delivery_modes(self)

    @property
    def price(self) -> dict[str, Any]:
        return price(self)

    @property
    def cancellation_terms(self) -> dict[str, int]:
        return cancellation_terms(self)

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


# What an offer shows beyond its columns, from an Offer or a row of its columns alike.


def delivery_modes(offer: Any) -> list[str]:
    modes = [
        (offer.delivers_in_person, DeliveryMode.IN_PERSON),
        (offer.delivers_online, DeliveryMode.ONLINE),
        (offer.delivers_at_premises, DeliveryMode.AT_PREMISES),
    ]
    return [str(mode) for on, mode in modes if on]


def price(offer: Any) -> dict[str, Any]:
    return {"amount": offer.price_pence, "currency": offer.currency}


def cancellation_terms(offer: Any) -> dict[str, int]:
    return {
        "notice_hours": offer.cancellation_notice_hours,
        "charge_percent": offer.cancellation_charge_percent,
    }
