"""The access sweep, built from the app's own route map: every route with an id in its
path, every method, every role, against records that belong to someone else.

Expected: 401 without a token; otherwise 404 (not yours) or 403 (a function your role
never has). A write whose body is checked before the record is looked up may answer 422
or 428 instead, but only if a made-up id gets exactly the same answer: nothing an
outsider sees may differ between "exists but not yours" and "does not exist".
Reads of the public directory (providers, offers, IPS services) are the only exception.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.app.data_protection.world import (
    QUERIES,
    RESOLVERS,
    ROLES,
    World,
    build_world,
)

NOT_API = ("/static/", "/docs/", "/problems/")
PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
# Reads anyone signed in may make of someone else's record: the public directory.
PUBLIC_READS = {
    "/v1/employment/services/<service_id>",
    "/v1/employment/services/<service_id>/specialists",
    "/v1/providers/<organisation_id>",
    "/v1/providers/<organisation_id>/offers",
    "/v1/offers/<offer_id>",
}
# Functions every admin has over every record, not tied to a person: verifying providers.
ANY_ADMIN_WRITES = {
    "/v1/providers/<organisation_id>/verify",
    "/v1/providers/<organisation_id>/reject",
    "/v1/providers/<organisation_id>/suspend",
}
MADE_UP_ID = "01900000-0000-7000-8000-000000000000"


def routes_with_ids(app: Flask) -> list[tuple[str, str]]:
    cases = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.rule.startswith(NOT_API):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            cases.append((rule.rule, method))
    return sorted(cases)


def fill(rule: str, world: World, *, made_up: bool = False) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in RESOLVERS:
            raise AssertionError(
                f"{rule}: no resolver for <{name}>; add it to tests/app/data_protection/world.py"
            )
        resolved = RESOLVERS[name](world)
        if made_up and isinstance(resolved, str):
            return MADE_UP_ID
        return str(resolved)

    path = PARAMETER.sub(value, rule)
    return f"{path}?{QUERIES[rule]}" if rule in QUERIES else path


def _call(client: FlaskClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.open(path, method=method, json=body, headers=headers)


def _problem_type(response: Any) -> str | None:
    body = response.get_json(silent=True) or {}
    return body.get("type") if isinstance(body, dict) else None


def test_every_route_refuses_other_peoples_records_for_every_role(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    world = build_world(db_session)
    cases = routes_with_ids(app)
    failures: list[str] = []
    ran = 0
    for rule, method in cases:
        path = fill(rule, world)
        for role in ROLES:
            headers = world.outsiders[role]
            ran += 1
            response = _call(client, method, path, headers)
            status = response.status_code
            where = f"{method} {rule} as {role}: {status} {_problem_type(response)}"
            if role == "anonymous":
                if status != 401:
                    failures.append(where + " (expected 401)")
                continue
            if (method == "GET" and rule in PUBLIC_READS) or (
                role == "admin" and rule in ANY_ADMIN_WRITES
            ):
                if status >= 500:
                    failures.append(where)
                continue
            if status in (403, 404):
                continue
            if status in (400, 409, 412, 422, 428):
                twin = _call(client, method, fill(rule, world, made_up=True), headers)
                if twin.status_code == status and _problem_type(twin) == _problem_type(response):
                    continue
                where += f" but a made-up id gets {twin.status_code} {_problem_type(twin)}"
            failures.append(where)
    print(f"access sweep: {len(cases)} route x method pairs, {ran} cases with {len(ROLES)} roles")
    assert ran >= len(cases) * len(ROLES)
    assert not failures, "\n".join(failures)


def test_list_endpoints_never_show_other_peoples_records(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    world = build_world(db_session)
    private = world.victim_ids()
    lists = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and not rule.arguments and rule.rule.startswith("/v1/")
    ]
    checked = 0
    for path in sorted(lists):
        for role in ROLES:
            response = client.get(path, headers=world.outsiders[role])
            if response.status_code != 200:
                continue
            checked += 1
            text = response.get_data(as_text=True)
            leaked = sorted(i for i in private if i in text)
            assert not leaked, f"GET {path} as {role} shows {leaked}"
    print(f"list sweep: {len(lists)} list routes, {checked} successful role reads checked")
    assert checked > 0


def test_the_sweeps_records_are_real_their_own_side_reads_them(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """Without this the sweep could pass on ids that name nothing: every GET with an id
    answers 200 to someone on the victim's own side."""
    world = build_world(db_session)
    unreadable = []
    for rule, method in routes_with_ids(app):
        if method != "GET":
            continue
        path = fill(rule, world)
        statuses = {
            role: client.get(path, headers=headers).status_code
            for role, headers in world.insiders.items()
        }
        if 200 not in statuses.values():
            unreadable.append(f"GET {rule}: {statuses}")
    assert not unreadable, "\n".join(unreadable)
