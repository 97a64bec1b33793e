"""Imports every module that defines models, so `Base.metadata` is complete.

Alembic and the test that compares models with migrations rely on it: a new models module
must be listed here.
"""

from __future__ import annotations

import budgets.providers.models  # noqa: F401
from app.db import Base

metadata = Base.metadata
