"""The journeys measured: each turns the generated dataset into a list of real requests.

A request line is (method, path, bearer token, JSON body or ""). Reads rotate through
many users and their own records; writes carry what a real client would send.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bench.dataset import Generated

RequestLine = tuple[str, str, str, str]


@dataclass(frozen=True)
class Journey:
    name: str
    is_write: bool
    build: Callable[[Generated, random.Random], list[RequestLine]]


def _reference(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [
        ("GET", f"/ref/{pid}", "-", "")
        for pid in rng.sample(data.person_ids, min(2000, len(data.person_ids)))
    ]


def _profile(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [("GET", "/v1/me", token, "") for token, _pid in data.person_tokens]


REFERENCE = Journey("reference: one row by id", False, _reference)

# Domains add their journeys here as they land.
JOURNEYS: list[Journey] = [Journey("profile (/v1/me)", False, _profile)]
