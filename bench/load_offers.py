"""Offers of the (verified) provider organisations, with the areas they reach.

Offers are mostly published, some drafts and withdrawn ones; each category has one unit
(so plan lines and offers of a category match), prices up to `MAX_OFFER_PRICE_PENCE`.
Free-text search needs no column: its GIN index is over an expression of title and
description (migration 0005), so realistic words in both are all it needs.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import psycopg

from app.db import new_id, utcnow
from app.model_registry import metadata
from bench.copy_load import copy_rows
from bench.sizes import Generated, Sizes
from budgets.providers.categories import SERVICE_CATEGORIES

CATEGORY_UNIT = {
    "personal_assistant": "hour",
    "therapy": "session",
    "equipment": "item",
    "transport": "day",
    "short_breaks": "day",
    "activities": "session",
    "education_training": "session",
    "technology": "item",
    "other": "week",
}
MAX_OFFER_PRICE_PENCE = 7_500
WORDS = {
    "personal_assistant": ["personal", "assistant", "support", "home", "daily", "living"],
    "therapy": ["physiotherapy", "counselling", "music", "art", "speech", "hydrotherapy"],
    "equipment": ["wheelchair", "hoist", "bed", "sensory", "equipment", "adapted"],
    "transport": ["taxi", "transport", "minibus", "travel", "accessible", "driver"],
    "short_breaks": ["respite", "short", "break", "weekend", "holiday", "residential"],
    "activities": ["swimming", "gardening", "yoga", "dance", "walking", "football"],
    "education_training": ["course", "college", "training", "skills", "cooking", "literacy"],
    "technology": ["tablet", "alarm", "telecare", "smart", "speaker", "app"],
    "other": ["gym", "membership", "cleaning", "laundry", "meals", "shopping"],
}


def load_offers(
    connection: psycopg.Connection[Any], sizes: Sizes, rng: random.Random, out: Generated
) -> None:
    """`sizes.offers` offers spread over the organisations, with their in-person areas."""
    from bench.dataset import POSTCODE_DISTRICTS

    organisations: list[str] = out.extra["organisation_ids"]
    categories = list(SERVICE_CATEGORIES)
    now = utcnow()
    offers: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    for i in range(sizes.offers):
        category = categories[i % len(categories)]
        org = organisations[i % len(organisations)]
        words = rng.sample(WORDS[category], 3)
        status = "published" if i % 20 else rng.choice(["draft", "withdrawn"])
        price = rng.randrange(1_000, MAX_OFFER_PRICE_PENCE + 1, 50)
        in_person = rng.random() < 0.8
        online = not in_person or rng.random() < 0.2
        offer_id = new_id()
        offers.append(
            {
                "id": offer_id,
                "organisation_id": org,
                "title": f"{words[0].title()} {words[1]} {i}",
                "description": f"{' '.join(words)} for adults, {rng.choice(WORDS['other'])}.",
                "category": category,
                "unit": CATEGORY_UNIT[category],
                "price_pence": price,
                "delivers_in_person": in_person,
                "delivers_online": online,
                "status": status,
                "published_at": now - timedelta(days=rng.randint(1, 700))
                if status != "draft"
                else None,
            }
        )
        if in_person:
            for code in rng.sample(POSTCODE_DISTRICTS, rng.randint(1, 3)):
                areas.append({"offer_id": offer_id, "via": "in_person", "code": code})
        if status == "published":
            out.offers_by_category.setdefault(category, []).append(
                (offer_id, org, CATEGORY_UNIT[category], price)
            )
    copy_rows(connection, metadata.tables["offers"], offers)
    copy_rows(connection, metadata.tables["offer_areas"], areas)
    out.offer_ids_newest_first = sorted(
        (o["id"] for o in offers if o["status"] == "published"), reverse=True
    )
