"""Provider organisations."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin


class ProviderOrganisation(IdMixin, TimestampMixin, Base):
    """An organisation or self-employed individual offering services to budget holders."""

    __tablename__ = "provider_organisations"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # individual | company | charity | nhs_trust
    status: Mapped[str] = mapped_column(String(16), default="unverified")
