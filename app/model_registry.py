"""Every module that defines models, imported so `Base.metadata` is complete.

Alembic and the test that compares models with migrations rely on it: a new models module
must be added to MODEL_MODULES.
"""

from __future__ import annotations

from app import audit, idempotency, notifications, sync
from app.data_protection import models as data_protection_models
from app.db import Base
from auth import models as account_models
from budgets.bookings import models as booking_models
from budgets.funding import models as funding_models
from budgets.ledger import models as ledger_models
from budgets.payments import models as payment_models
from budgets.plans import models as plan_models
from budgets.providers import models as provider_models
from budgets.providers.offers import models as offer_models
from employment import models as employment_models
from mobile_contract.notifications import models as push_models

MODEL_MODULES = (
    audit,
    idempotency,
    notifications,
    data_protection_models,
    sync,
    account_models,
    provider_models,
    offer_models,
    booking_models,
    funding_models,
    plan_models,
    ledger_models,
    employment_models,
    payment_models,
    push_models,
)

metadata = Base.metadata
