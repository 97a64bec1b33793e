"""The journeys measured: each turns the generated dataset into a list of real requests.

A request line is (method, path, bearer token, JSON body or "", flags). Reads rotate
through many users and their own records; writes carry what a real client would send.
The flag "idem" makes the driver send a fresh Idempotency-Key on every request, so each
write is a new use case (a replay would not measure the write).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from app.pagination import CursorCodec
from bench.sizes import Generated
from budgets.providers.offers.search import OfferSearch

RequestLine = tuple[str, str, str, str, str]
MAX_LINES = 4_000
DEEP_PAGE = 1_000
PAGE_SIZE = 20
NO_TOKEN = "-"  # noqa: S105 (the reference is called without a bearer token)


@dataclass(frozen=True)
class Journey:
    name: str
    is_write: bool
    build: Callable[[Generated, random.Random], list[RequestLine]]


def send_in_process(client: Any, line: RequestLine, idempotency_key: str) -> int:
    """Send a request line through a Flask test client, as a real client would: a bearer
    token unless it is NO_TOKEN, a JSON content type only with a body, and the given
    Idempotency-Key on a write flagged "idem". Returns the status code."""
    method, path, token, body, flags = line
    headers = {} if token == NO_TOKEN else {"Authorization": f"Bearer {token}"}
    if body:
        headers["Content-Type"] = "application/json"
    if flags == "idem":
        headers["Idempotency-Key"] = idempotency_key
    response = client.open(path, method=method, headers=headers, data=body or None)
    return int(response.status_code)


def _get(path: str, token: str) -> RequestLine:
    return ("GET", path, token, "", "")


def _reference(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [
        _get(f"/ref/{pid}", NO_TOKEN)
        for pid in rng.sample(data.person_ids, min(2000, len(data.person_ids)))
    ]


def _profile(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [_get("/v1/me", token) for token, _pid in data.person_tokens]


def _balances(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [
        _get(f"/v1/budgets/{data.budget_of[pid]}/balances", token)
        for token, pid in data.person_tokens
    ]


def _plan(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [_get(f"/v1/plans/{data.plan_of[pid]}", token) for token, pid in data.person_tokens]


def _search_filters(data: Generated, rng: random.Random) -> list[RequestLine]:
    from bench.dataset import POSTCODE_DISTRICTS

    lines = []
    for token, _pid in data.person_tokens:
        query = {
            "category": rng.choice(sorted(data.offers_by_category)),
            "area": rng.choice(POSTCODE_DISTRICTS),
            "max_price": rng.randrange(3_000, 7_500, 500),
            "sort": "price",
        }
        lines.append(_get(f"/v1/offers?{urlencode(query)}", token))
    return lines


def _search_text(data: Generated, rng: random.Random) -> list[RequestLine]:
    from bench.load_offers import WORDS

    words = [w for ws in WORDS.values() for w in ws]
    return [
        _get(f"/v1/offers?{urlencode({'q': ' '.join(rng.sample(words, rng.randint(1, 2)))})}", t)
        for t, _pid in data.person_tokens
    ]


def _deep_page(data: Generated, rng: random.Random) -> list[RequestLine]:
    """Page 1,000 (or as deep as the directory goes) of the newest-first offer list."""
    offers = data.offer_ids_newest_first
    codec = CursorCodec(data.secret)
    scope = OfferSearch().scope()
    depth = min(DEEP_PAGE * PAGE_SIZE, max(0, len(offers) - PAGE_SIZE - 1))
    lines = []
    for token, _pid in data.person_tokens:
        # Vary the position a little so caches do not flatter it.
        position = max(0, depth - rng.randint(0, PAGE_SIZE * 5))
        cursor = codec.encode(scope, [offers[position]])
        lines.append(_get(f"/v1/offers?{urlencode({'cursor': cursor})}", token))
    return lines


def _first_page(data: Generated, rng: random.Random) -> list[RequestLine]:
    return [_get("/v1/offers", token) for token, _pid in data.person_tokens]


def _statement(data: Generated, rng: random.Random) -> list[RequestLine]:
    year, month = data.statement_month
    return [
        _get(f"/v1/budgets/{data.budget_of[pid]}/statements/{year}/{month}", token)
        for token, pid in data.person_tokens
    ]


def _ips_metrics(data: Generated, rng: random.Random) -> list[RequestLine]:
    lines = []
    for token, service_id in data.ips_services:
        start = rng.choice(["2025-01-01", "2025-04-01", "2025-07-01"])
        query = urlencode({"period_start": start, "period_end": "2026-03-31"})
        lines.append(_get(f"/v1/employment/services/{service_id}/metrics?{query}", token))
    return lines


def booking_body(
    data: Generated, rng: random.Random, line_person: str, capped: bool = False
) -> str:
    line = data.capped_line if capped else data.bench_line_of[line_person]
    assert line is not None
    offers = data.offers_by_category[line.category]
    offer_id, _org, _unit, _price = rng.choice(offers)
    start = line.start_date + timedelta(days=rng.randint(0, 300))
    return json.dumps(
        {
            "offer_id": offer_id,
            "plan_line_id": line.line_id,
            "units": 1,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=7)).isoformat(),
            "schedule": "Tuesdays 10:00-11:00",
        }
    )


def _book(data: Generated, rng: random.Random) -> list[RequestLine]:
    """Each request books one session of a therapy offer on the person's bench line."""
    people = [(t, pid) for t, pid in data.person_tokens if pid in data.bench_line_of]
    return [
        ("POST", "/v1/bookings", token, booking_body(data, rng, pid), "idem")
        for token, pid in (rng.choice(people) for _ in range(MAX_LINES))
    ]


def _confirm_claim(data: Generated, rng: random.Random) -> list[RequestLine]:
    """Each request confirms a different submitted claim (a confirmed one would be 409)."""
    token_of = {pid: token for token, pid in data.person_tokens}
    claims = list(data.submitted_claims)
    rng.shuffle(claims)
    return [
        ("POST", f"/v1/claims/{claim_id}/confirm", token_of[pid], "", "idem")
        for pid, claim_id in claims
    ]


REFERENCE = Journey("reference: one row by id", False, _reference)

JOURNEYS: list[Journey] = [
    Journey("profile (/v1/me)", False, _profile),
    Journey("budget overview with balances", False, _balances),
    Journey("plan read", False, _plan),
    Journey("offer search: category+area+price", False, _search_filters),
    Journey("offer search: free text", False, _search_text),
    Journey("offer list: page 1", False, _first_page),
    Journey("offer list: page 1,000", False, _deep_page),
    Journey("ledger statement for a month", False, _statement),
    Journey("IPS metrics for a service", False, _ips_metrics),
    Journey("book an offer (ledger commit)", True, _book),
    Journey("confirm a claim", True, _confirm_claim),
]
