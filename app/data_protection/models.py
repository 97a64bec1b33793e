"""Records the retention command keeps about what it did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, utcnow


class Pseudonymisation(IdMixin, Base):
    """A person whose identifying details were removed once their retention period ended.

    Their financial records stay (they must, for the commissioner's accounts) but now
    point at a person record with no name, contact or health identifiers.
    """

    __tablename__ = "pseudonymisations"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), unique=True)
    pseudonymised_at: Mapped[datetime] = mapped_column(default=utcnow)
    rule: Mapped[str] = mapped_column(String(64))
