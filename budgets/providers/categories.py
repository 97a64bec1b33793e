"""What budgets buy: the controlled list of service categories and units.

Offers and care plan lines share these lists, so a booking can check that an offer is
the kind of thing the plan line pays for.
"""

from __future__ import annotations

SERVICE_CATEGORIES: dict[str, str] = {
    "personal_assistant": "Personal assistant",
    "therapy": "Therapy",
    "equipment": "Equipment",
    "transport": "Transport",
    "short_breaks": "Short breaks and respite",
    "activities": "Activities",
    "education_training": "Education and training",
    "technology": "Technology",
    "other": "Other",
}

UNITS: dict[str, str] = {
    "hour": "per hour",
    "session": "per session",
    "day": "per day",
    "week": "per week",
    "item": "per item",
}
