"""Budgets, funding streams, approved care plans, bookings, claims and their ledger.

Everything follows budgets/ledger's rules, so the API sees a ledger it could have written:
each transaction is balanced (its postings sum to zero) and money moves only along
commissioner -> unreleased -> available -> committed -> spent:

- per stream, an allocation (commissioner -> unreleased) and one release per month begun
  under the monthly schedule (unreleased -> available), exactly what `release_due_funds`
  would post, so booking today releases nothing more;
- per booking, a commitment of its total (available -> committed on its plan line); a
  declined booking has it released again (committed -> available);
- per paid claim, a spend (committed -> spent on the line); confirmed unpaid and submitted
  claims still hold committed money.

The number of months already begun is chosen so the ledger has about
`sizes.ledger_entries` postings. People who sign in during the bench also get a roomy
"bench line" (therapy sessions) in their approved plan to book against.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

from app.db import new_id, utcnow
from app.model_registry import metadata
from bench.copy_load import copy_rows
from bench.ledger_postings import ledger_postings
from bench.load_offers import CATEGORY_UNIT, MAX_OFFER_PRICE_PENCE
from bench.sizes import BenchLine, Generated, Sizes
from budgets.dates import add_months, occurrences, periods_started

LINE_UNIT_COST_PENCE = 8_000  # above every offer's price, so any offer of the category fits
PERIOD_MONTHS = 24
STREAM_KINDS = ("nhs_continuing_healthcare", "council_social_care")
LINES_PER_PLAN = 3
CAPPED_BOOKINGS = 50  # the concurrency test's line has room for exactly this many


# Each budget's running sums (budgets/ledger/sums.py) from the postings just copied, in
# one statement: per stream and per plan line lineage, then per account.
_FILL_LEDGER_SUMS = """
WITH per_holder AS (
    SELECT budget_id, 'streams' AS part, funding_stream_id AS holder, account,
           sum(amount_pence) AS total
    FROM ledger_entries GROUP BY budget_id, funding_stream_id, account
    UNION ALL
    SELECT e.budget_id, 'lines', l.lineage_id, e.account, sum(e.amount_pence)
    FROM ledger_entries e JOIN plan_lines l ON l.id = e.plan_line_id
    GROUP BY e.budget_id, l.lineage_id, e.account
), holders AS (
    SELECT budget_id, part, holder, jsonb_object_agg(account, total) AS accounts
    FROM per_holder GROUP BY budget_id, part, holder
), parts AS (
    SELECT budget_id, part, jsonb_object_agg(holder, accounts) AS sums
    FROM holders GROUP BY budget_id, part
), budget_sums AS (
    SELECT budget_id, jsonb_build_object('streams', '{}'::jsonb, 'lines', '{}'::jsonb)
           || jsonb_object_agg(part, sums) AS sums
    FROM parts GROUP BY budget_id
)
UPDATE budgets SET ledger_sums = budget_sums.sums::json
FROM budget_sums WHERE budgets.id = budget_sums.budget_id
"""


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


class _Budget:
    """One person's budget as generated: ids and the postings it needs."""

    __slots__ = ("allocated", "bookings", "id", "lines", "person_id", "streams", "user_id")

    def __init__(self, person_id: str, user_id: str) -> None:
        self.id = new_id()
        self.person_id = person_id
        self.user_id = user_id
        self.streams = [new_id() for _ in STREAM_KINDS]
        # (line id, category, stream index, planned total, unit cost)
        self.lines: list[tuple[str, str, int, int, int]] = []
        self.bookings: list[dict[str, Any]] = []
        self.allocated = [0 for _ in STREAM_KINDS]


def load_budgets_plans_bookings(
    connection: psycopg.Connection[Any], sizes: Sizes, rng: random.Random, out: Generated
) -> None:
    """Budgets with approved plans for everyone, bookings and claims, and the ledger."""
    today = utcnow().date()
    n_bookings = max(1, sizes.bookings // 5)
    n_claims = sizes.bookings - n_bookings
    # Postings per person from bookings: commitment (2), some released (2), paid claims (2).
    per_person_bookings = (n_bookings * 2.2 + n_claims * 1.2) / sizes.people
    months = int((sizes.ledger_entries / sizes.people - per_person_bookings) / 4) - 1
    months = max(1, min(PERIOD_MONTHS, months))
    period_start = add_months(today, -(months - 1)) - timedelta(days=1)
    period_end = add_months(period_start, PERIOD_MONTHS) - timedelta(days=1)
    begun, total = periods_started(period_start, period_end, 1, today)
    plan_start = period_start
    plan_end = period_end

    signing_in = {pid for _t, pid in out.person_tokens}
    categories = sorted(out.offers_by_category)
    budgets: list[_Budget] = []
    for pid in out.person_ids:
        b = _Budget(pid, out.person_accounts[pid][0])
        for i, category in enumerate(rng.sample(categories, min(LINES_PER_PLAN, len(categories)))):
            planned = LINE_UNIT_COST_PENCE * occurrences(plan_start, plan_end, "weekly")
            b.lines.append(
                (new_id(), category, i % len(STREAM_KINDS), planned, LINE_UNIT_COST_PENCE)
            )
        if pid in signing_in and "therapy" in out.offers_by_category:
            line_id = new_id()
            b.lines.append(
                (line_id, "therapy", 0, LINE_UNIT_COST_PENCE * 100_000, LINE_UNIT_COST_PENCE)
            )
            out.bench_line_of[pid] = BenchLine(
                pid,
                b.id,
                line_id,
                "therapy",
                "session",
                LINE_UNIT_COST_PENCE,
                plan_start,
                plan_end,
            )
        budgets.append(b)
        out.budget_of[pid] = b.id

    # A line with room for exactly CAPPED_BOOKINGS one-session bookings at the top price.
    capped_person = out.person_tokens[0][1] if out.person_tokens else None
    if capped_person and "therapy" in out.offers_by_category:
        b = budgets[out.person_ids.index(capped_person)]
        line_id = new_id()
        b.lines.append(
            (line_id, "therapy", 1, CAPPED_BOOKINGS * MAX_OFFER_PRICE_PENCE, MAX_OFFER_PRICE_PENCE)
        )
        out.capped_line = BenchLine(
            capped_person,
            b.id,
            line_id,
            "therapy",
            "session",
            MAX_OFFER_PRICE_PENCE,
            plan_start,
            plan_end,
            bookings_allowed=CAPPED_BOOKINGS,
        )

    # Bookings and claims, against the people's ordinary lines.
    claims: list[dict[str, Any]] = []
    booking_rows: list[dict[str, Any]] = []
    for _ in range(n_bookings):
        b = rng.choice(budgets)
        line_id, category, stream_index, _planned, _cost = rng.choice(b.lines[:LINES_PER_PLAN])
        offer_id, org_id, unit, price = rng.choice(out.offers_by_category[category])
        start = plan_start + timedelta(days=rng.randint(0, max(1, (today - plan_start).days - 60)))
        booking: dict[str, Any] = {
            "id": new_id(),
            "person_id": b.person_id,
            "organisation_id": org_id,
            "offer_id": offer_id,
            "plan_line_id": line_id,
            "budget_id": b.id,
            "category": category,
            "unit": unit,
            "unit_price_pence": price,
            "units": 0,
            "total_pence": 0,
            "cancellation_notice_hours": 24,
            "cancellation_charge_percent": 0,
            "start_date": start,
            "end_date": min(plan_end, start + timedelta(days=180)),
            "status": "accepted",
            "booked_by_user_id": b.user_id,
            "decided_at": _at(start - timedelta(days=2)),
            "released_pence": 0,
            "created_at": _at(start - timedelta(days=3)),
            "_stream": b.streams[stream_index],
            "_claims": 0,
        }
        b.bookings.append(booking)
        booking_rows.append(booking)
    for _ in range(n_claims):
        booking = rng.choice(booking_rows)
        booking["_claims"] += 1
    now = utcnow()
    for booking in booking_rows:
        count = booking.pop("_claims")
        booking["units"] = count + rng.randint(1, 3)
        booking["total_pence"] = booking["units"] * booking["unit_price_pence"]
        if count == 0 and rng.random() < 0.5:
            booking["status"] = rng.choice(["requested", "declined"])
            if booking["status"] == "declined":
                booking["released_pence"] = booking["total_pence"]
                booking["decline_reason"] = "No availability"
            else:
                booking["decided_at"] = None
        for k in range(count):
            delivered = booking["start_date"] + timedelta(days=7 * k)
            roll = rng.random()
            status = "submitted" if roll < 0.1 else "confirmed"
            claim: dict[str, Any] = {
                "id": new_id(),
                "booking_id": booking["id"],
                "organisation_id": booking["organisation_id"],
                "person_id": booking["person_id"],
                "plan_line_id": booking["plan_line_id"],
                "budget_id": booking["budget_id"],
                "delivered_on": delivered,
                "units": 1,
                "amount_pence": booking["unit_price_pence"],
                "status": status,
                "delivery_key": f"{booking['id']}:{delivered.isoformat()}",
                "confirm_by": now + timedelta(days=7) if status == "submitted" else None,
                "confirmed_at": _at(delivered + timedelta(days=2))
                if status != "submitted"
                else None,
                "confirmed_by_user_id": booking["booked_by_user_id"]
                if status != "submitted"
                else None,
                "created_at": _at(delivered + timedelta(days=1)),
                "_paid": status == "confirmed" and roll < 0.7,
                "_stream": booking["_stream"],
            }
            claims.append(claim)
            if status == "submitted" and booking["person_id"] in signing_in:
                out.submitted_claims.append((booking["person_id"], claim["id"]))

    _add_bench_claims(rng, budgets, out, claims, booking_rows, signing_in)
    # Each stream is allocated what its lines plan plus some slack, and at least enough that
    # the months released so far cover what its bookings hold.
    held: dict[str, int] = {}
    for bk in booking_rows:
        if bk["status"] != "declined":
            held[bk["_stream"]] = held.get(bk["_stream"], 0) + bk["total_pence"]
    for b in budgets:
        for line in b.lines:
            b.allocated[line[2]] += line[3]
        b.allocated = [
            max(a, -(-held.get(stream, 0) * total // begun)) + rng.randrange(100_000, 600_000, 100)
            for a, stream in zip(b.allocated, b.streams, strict=True)
        ]

    _copy_budgets(connection, budgets, period_start, period_end, plan_start, plan_end, out)
    copy_rows(
        connection,
        metadata.tables["bookings"],
        ({k: v for k, v in row.items() if not k.startswith("_")} for row in booking_rows),
    )
    copy_rows(
        connection,
        metadata.tables["claims"],
        ({k: v for k, v in row.items() if not k.startswith("_")} for row in claims),
    )
    copy_rows(
        connection,
        metadata.tables["ledger_entries"],
        ledger_postings(budgets, booking_rows, claims, period_start, begun, total),
    )
    connection.execute(_FILL_LEDGER_SUMS)
    statement = add_months(today, -2)
    out.statement_month = (statement.year, statement.month)


def _add_bench_claims(
    rng: random.Random,
    budgets: list[_Budget],
    out: Generated,
    claims: list[dict[str, Any]],
    booking_rows: list[dict[str, Any]],
    signing_in: set[str],
) -> None:
    """Enough submitted claims for the people who sign in to confirm during the bench."""
    wanted = 6_000 - len(out.submitted_claims)
    by_person = [b for b in budgets if b.person_id in signing_in]
    if not by_person or wanted <= 0:
        return
    per_booking = 40
    for _ in range(-(-wanted // per_booking)):
        b = rng.choice(by_person)
        line_id, category, stream_index, _planned, _cost = b.lines[0]
        offer_id, org_id, unit, price = rng.choice(out.offers_by_category[category])
        start = add_months(utcnow().date(), -2)
        booking: dict[str, Any] = {
            "id": new_id(),
            "person_id": b.person_id,
            "organisation_id": org_id,
            "offer_id": offer_id,
            "plan_line_id": line_id,
            "budget_id": b.id,
            "category": category,
            "unit": unit,
            "unit_price_pence": price,
            "units": per_booking,
            "total_pence": per_booking * price,
            "cancellation_notice_hours": 24,
            "cancellation_charge_percent": 0,
            "start_date": start,
            "end_date": start + timedelta(days=per_booking),
            "status": "accepted",
            "booked_by_user_id": b.user_id,
            "decided_at": _at(start),
            "_stream": b.streams[stream_index],
        }
        booking_rows.append(booking)
        for k in range(per_booking):
            delivered = start + timedelta(days=k)
            claim_id = new_id()
            claims.append(
                {
                    "id": claim_id,
                    "booking_id": booking["id"],
                    "organisation_id": org_id,
                    "person_id": b.person_id,
                    "plan_line_id": line_id,
                    "budget_id": b.id,
                    "delivered_on": delivered,
                    "units": 1,
                    "amount_pence": price,
                    "status": "submitted",
                    "delivery_key": f"{booking['id']}:{delivered.isoformat()}",
                    "confirm_by": utcnow() + timedelta(days=7),
                    "_paid": False,
                    "_stream": booking["_stream"],
                }
            )
            out.submitted_claims.append((b.person_id, claim_id))


def _copy_budgets(
    connection: psycopg.Connection[Any],
    budgets: list[_Budget],
    period_start: date,
    period_end: date,
    plan_start: date,
    plan_end: date,
    out: Generated,
) -> None:
    tables = metadata.tables
    copy_rows(
        connection,
        tables["budgets"],
        (
            {
                "id": b.id,
                "person_id": b.person_id,
                "commissioner_id": out.person_accounts[b.person_id][2],
                "broker_id": out.person_accounts[b.person_id][1],
                "period_start": period_start,
                "period_end": period_end,
                "holding_options": ["direct_payment"],
                "release_schedule": "monthly",
                "created_at": _at(period_start - timedelta(days=14)),
            }
            for b in budgets
        ),
    )
    copy_rows(
        connection,
        tables["funding_streams"],
        (
            {"id": stream_id, "budget_id": b.id, "kind": kind}
            for b in budgets
            for stream_id, kind in zip(b.streams, STREAM_KINDS, strict=True)
        ),
    )
    plans = {b.id: new_id() for b in budgets}
    for b in budgets:
        out.plan_of[b.person_id] = plans[b.id]
    copy_rows(
        connection,
        tables["care_plans"],
        (
            {
                "id": plans[b.id],
                "budget_id": b.id,
                "person_id": b.person_id,
                "status": "approved",
                "risks": "Falls at home; agreed mitigations in place.",
                "review_arrangements": "Broker review every 6 months.",
                "broker_id": out.person_accounts[b.person_id][1],
                "submitted_at": _at(plan_start - timedelta(days=10)),
                "decided_at": _at(plan_start - timedelta(days=5)),
                "approved_on": plan_start - timedelta(days=5),
                "nhs_review_due_on": add_months(plan_start, 3),
                "council_review_due_on": add_months(plan_start, 6),
            }
            for b in budgets
        ),
    )
    copy_rows(
        connection,
        tables["plan_outcomes"],
        (
            {"plan_id": plans[b.id], "position": position, "text": text}
            for b in budgets
            for position, text in (
                (1, "I want to get out of the house three times a week."),
                (2, "I want to sleep better and have less pain."),
            )
        ),
    )
    copy_rows(
        connection,
        tables["plan_lines"],
        (
            {
                "id": line_id,
                "plan_id": plans[b.id],
                "lineage_id": line_id,
                "category": category,
                "description": f"{category.replace('_', ' ').capitalize()} as planned",
                "outcome_positions": [1 + i % 2],
                "unit": CATEGORY_UNIT[category],
                "unit_cost_pence": cost,
                "quantity": max(1, planned // (cost * 105)),
                "frequency": "weekly",
                "start_date": plan_start,
                "end_date": plan_end,
                "funding_stream_id": b.streams[stream_index],
                "planned_total_pence": planned,
            }
            for b in budgets
            for i, (line_id, category, stream_index, planned, cost) in enumerate(b.lines)
        ),
    )
