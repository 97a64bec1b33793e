"""Every module that defines models, imported so `Base.metadata` is complete.

Alembic and the test that compares models with migrations rely on it: a new models module
must be added to MODEL_MODULES.
"""

from __future__ import annotations

from app import audit, idempotency, notifications, sync
from app.db import Base
from auth import models as account_models
from budgets.providers import models as provider_models
from mobile_contract.notifications import models as push_models

MODEL_MODULES = (
    audit,
    idempotency,
    notifications,
    sync,
    account_models,
    provider_models,
    push_models,
)

metadata = Base.metadata
