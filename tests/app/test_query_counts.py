"""SQL queries per request do not grow with the page size, for EVERY list endpoint.

The list endpoints are discovered from the OpenAPI document (GET operations answering a
`{items, next_cursor}` page), so a new list is covered the day it lands. Each is called
on the demo dataset by whichever demo user and path ids give the longest list (a list of
one gets copies of its row, so every list has several items); its
statements are counted at `limit=1` and at `limit=N` (N = all the items, at least 2) and
must be the same number: an N+1 (a lazy load per item) shows up as a difference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import UniqueConstraint, event, select
from sqlalchemy.orm import Session

from app.db import get_db, new_id, utcnow
from app.demo import seed_demo
from app.model_registry import metadata
from auth.models import Invitation, OAuthClient, ProviderMembership, User
from budgets.bookings.models import Claim
from budgets.funding.models import Budget, BudgetChange
from budgets.payments.models import Payment
from budgets.plans.models import CarePlan
from employment.models import DatedRate, FidelityReview, IpsService
from mobile_contract.notifications.models import DeviceToken
from tests.builders import bearer_for
from tests.employment.conftest import REGULATED_RATES

# Which table a path parameter's ids come from.
PARAM_TABLES = {
    "booking_id": "bookings",
    "budget_id": "budgets",
    "plan_id": "care_plans",
    "referral_id": "ips_referrals",
    "service_id": "ips_services",
    "organisation_id": "provider_organisations",
    "person_id": "people",
}
MAX_CANDIDATE_IDS = 40


def list_endpoints(app: Flask) -> list[str]:
    """Paths of GET operations whose 200 response is a page of items with a next cursor."""
    spec = app.extensions["api"].spec.to_dict()
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        content = get.get("responses", {}).get("200", {}).get("content", {})
        ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
        properties = schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
        if {"items", "next_cursor"} <= set(properties):
            found.append(path)
    return sorted(found)


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = get_db(app).engine

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _sep(path: str) -> str:
    return "&" if "?" in path else "?"


# Lists that need a query argument to answer at all: argument -> table its ids come from.
REQUIRED_QUERY = {"/v1/back-office-clients": ("organisation_id", "provider_organisations")}


def _candidates(session: Session, path: str) -> list[str]:
    """Concrete paths for a template, one per combination of existing ids (capped)."""
    params = re.findall(r"{(\w+)}", path)
    paths = [path]
    if path in REQUIRED_QUERY:
        name, table_name = REQUIRED_QUERY[path]
        ids = session.scalars(select(metadata.tables[table_name].c.id)).all()
        paths = [f"{path}?{name}={i}" for i in ids]
    for param in params:
        table = metadata.tables[PARAM_TABLES[param]]
        ids = session.scalars(select(table.c.id).limit(MAX_CANDIDATE_IDS)).all()
        paths = [p.replace(f"{{{param}}}", str(i)) for p in paths for i in ids]
    return paths


def _is_unique(column: Any) -> bool:
    table = column.table
    single = [c.columns for c in table.constraints if isinstance(c, UniqueConstraint)]
    single += [i.columns for i in table.indexes if i.unique]
    return bool(column.unique) or any(list(cols) == [column] for cols in single)


def _copy_of(column: Any, value: Any) -> Any:
    """A value for a copied row: unique columns get a fresh value (or none if nullable)."""
    if not _is_unique(column):
        return value
    if column.nullable:
        return None
    return f"{value}-{new_id()[-12:]}" if isinstance(value, str) else value


def _clone_items(session: Session, items: list[dict[str, Any]], copies: int) -> bool:
    """Insert copies (new ids) of the rows behind a short list's items; False if not found."""
    cloned = False
    for item in items:
        item_id = item.get("id") or item.get("plan_id")  # caseload items name their plan
        for table in metadata.sorted_tables:
            if "id" not in table.c:
                continue
            row = session.execute(select(table).where(table.c.id == item_id)).mappings().first()
            if row is None:
                continue
            for _ in range(copies):
                values = {k: _copy_of(table.c[k], v) for k, v in row.items()} | {"id": new_id()}
                session.execute(table.insert().values(**values))
            cloned = True
            break
    session.flush()
    return cloned


def _longest(
    client: FlaskClient, paths: list[str], headers: list[dict[str, str]]
) -> tuple[str, dict[str, str], int] | None:
    best: tuple[str, dict[str, str], int] | None = None
    for path in paths:
        for auth in headers:
            response = client.get(f"{path}{_sep(path)}limit=100", headers=auth)
            if response.status_code != 200:
                continue
            count = len(response.get_json()["items"])
            if best is None or count > best[2]:
                best = (path, auth, count)
            if count >= 5:
                return best
    return best


def _add_what_the_demo_lacks(session: Session) -> None:
    """One row for the lists the demo leaves empty (copies are added by the test)."""
    budget = session.scalars(select(Budget)).first()
    assert budget is not None
    session.add(
        BudgetChange(
            budget_id=budget.id,
            kind="increase",
            amount_pence=1_000,
            reason="More hours",
            effective_on=date(2026, 1, 1),
        )
    )
    draft = session.scalars(select(CarePlan).where(CarePlan.status == "draft")).first()
    assert draft is not None
    draft.status = "submitted"
    service = session.scalars(select(IpsService)).first()
    assert service is not None
    session.add(
        FidelityReview(
            service_id=service.id,
            reviewed_on=date(2026, 1, 1),
            reviewer_name="Reviewer",
            scores={},
            total=0,
            band="not_ips",
        )
    )
    if session.scalar(select(DatedRate.id).limit(1)) is None:  # emptied by a committed test
        for kind, age, day, value, unit in REGULATED_RATES:
            session.add(
                DatedRate(
                    kind=kind,
                    min_age=age,
                    effective_from=date.fromisoformat(day),
                    value=value,
                    unit=unit,
                )
            )
    _add_accounts_lists(session)
    _add_payments(session)
    session.flush()


def _add_accounts_lists(session: Session) -> None:
    """Invitations, devices and back-office clients: the demo has at most one of each."""
    admin = session.scalars(select(User).where(User.email == "admin@demo.example")).one()
    person = session.scalars(select(User).where(User.email == "person@demo.example")).one()
    owner = session.scalars(select(User).where(User.email == "provider@demo.example")).one()
    membership = session.scalars(
        select(ProviderMembership).where(ProviderMembership.user_id == owner.id)
    ).first()
    assert membership is not None
    expires = utcnow() + timedelta(days=7)
    for n in range(3):
        session.add(
            Invitation(
                token_hash=new_id(),
                email=f"invitee{n}@demo.example",
                display_name=f"Invitee {n}",
                role="broker",
                invited_by_id=admin.id,
                commissioner_id=admin.commissioner_id,
                expires_at=expires,
            )
        )
        session.add(DeviceToken(user_id=person.id, platform="ios", token=f"apns-{new_id()}"))
        session.add(
            OAuthClient(
                client_id=f"back-office-{new_id()}",
                name=f"Back office {n}",
                is_public=False,
                organisation_id=membership.organisation_id,
                grant_types=["client_credentials"],
                redirect_uris=[],
                allowed_scopes="bookings:manage",
            )
        )


def _add_payments(session: Session) -> None:
    """A payment for each of a few demo claims (their budget and provider lists show them)."""
    for claim in session.scalars(select(Claim).limit(3)):
        session.add(
            Payment(
                claim_id=claim.id,
                booking_id=claim.booking_id,
                organisation_id=claim.organisation_id,
                plan_line_id=claim.plan_line_id,
                budget_id=claim.budget_id,
                person_id=claim.person_id,
                amount_pence=1_000,
                status="failed",
                idempotency_key=f"payment-{new_id()}",
            )
        )


@pytest.fixture
def demo_world(db_session: Session) -> list[dict[str, str]]:
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    _add_what_the_demo_lacks(db_session)
    users = db_session.scalars(select(User).where(User.is_active.is_(True))).all()
    headers = [bearer_for(db_session, user) for user in users]
    db_session.commit()
    return headers


def test_every_list_endpoint_is_discovered(app: Flask) -> None:
    endpoints = list_endpoints(app)
    assert "/v1/bookings" in endpoints and "/v1/offers" in endpoints
    unknown = {p for e in endpoints for p in re.findall(r"{(\w+)}", e)} - set(PARAM_TABLES)
    assert not unknown, f"add these path parameters to PARAM_TABLES: {unknown}"


def test_queries_per_request_do_not_grow_with_page_size(
    app: Flask, client: FlaskClient, db_session: Session, demo_world: list[dict[str, str]]
) -> None:
    growing, too_short = {}, []
    for template in list_endpoints(app):
        found = _longest(client, _candidates(db_session, template), demo_world)
        if found is not None and found[2] == 1:  # give the one item some company
            short = client.get(f"{found[0]}{_sep(found[0])}limit=100", headers=found[1]).get_json()[
                "items"
            ]
            if _clone_items(db_session, short, copies=3):
                found = _longest(client, [found[0]], [found[1]])
        if found is None or found[2] < 2:
            too_short.append(template)
            continue
        path, auth, count = found
        with counted(app) as one:
            assert client.get(f"{path}{_sep(path)}limit=1", headers=auth).status_code == 200
        with counted(app) as many:
            response = client.get(f"{path}{_sep(path)}limit={count}", headers=auth)
            assert response.status_code == 200 and len(response.get_json()["items"]) == count
        if len(many) != len(one):
            growing[template] = (len(one), len(many), count)
    assert not growing, f"queries grow with page size (limit=1, limit=N, N): {growing}"
    assert not too_short, f"the demo data gives fewer than 2 items for: {too_short}"
