"""The generated dataset: sizes, and the steps that bulk-load each domain.

`Sizes.at(scale)` gives the issue's full dataset at scale 1.0 (50,000 people, 2,000
providers, 50,000 offers, 500,000 bookings, 5,000,000 ledger entries, 20,000 IPS
referrals); `make bench` runs a small scale by default. Each step COPYs its rows and
returns the ids the journeys need (tokens are real: their hashes go into the token table
exactly as the OAuth server stores them, the plaintext only into the run's token file).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import psycopg

from app.db import new_id, utcnow
from app.model_registry import metadata
from auth.roles import Role, scopes_for_roles
from auth.tokens import generate_token, token_hash
from bench.copy_load import copy_rows
from bench.sizes import Generated, Sizes

BENCH_CLIENT_ID = "bench-load"
POSTCODE_DISTRICTS = [f"LS{n}" for n in range(1, 30)] + [f"BD{n}" for n in range(1, 25)]


def _table(name: str) -> Any:
    return metadata.tables[name]


def load_accounts(
    connection: psycopg.Connection[Any], sizes: Sizes, rng: random.Random, out: Generated
) -> None:
    """Commissioners, people with logins, brokers, provider organisations and staff, tokens."""
    now = utcnow()
    commissioner_ids = [new_id() for _ in range(4)]
    copy_rows(
        connection,
        _table("commissioners"),
        (
            {"id": cid, "name": f"Bench ICB {i}", "kind": "icb", "ods_code": f"B{i:04d}"}
            for i, cid in enumerate(commissioner_ids)
        ),
    )
    brokers = [(new_id(), rng.choice(commissioner_ids)) for _ in range(max(2, sizes.people // 50))]
    admins = [(new_id(), cid) for cid in commissioner_ids]
    people = [(new_id(), new_id(), rng.choice(brokers)) for _ in range(sizes.people)]
    organisations = [new_id() for _ in range(sizes.providers)]
    provider_staff = [(new_id(), org) for org in organisations]

    copy_rows(
        connection,
        _table("provider_organisations"),
        (
            {"id": org, "name": f"Bench Provider {i}", "kind": "company", "status": "verified"}
            for i, org in enumerate(organisations)
        ),
    )
    users: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    for user_id, cid in brokers:
        users.append(_user(user_id, "broker", commissioner_id=cid))
        roles.append({"user_id": user_id, "role": Role.BROKER.value})
    for user_id, cid in admins:
        users.append(_user(user_id, "admin", commissioner_id=cid))
        roles.append({"user_id": user_id, "role": Role.ADMIN.value})
    for user_id, _org in provider_staff:
        users.append(_user(user_id, "staff"))
        roles.append({"user_id": user_id, "role": Role.PROVIDER_STAFF.value})
    copy_rows(connection, _table("users"), users)
    copy_rows(
        connection,
        _table("people"),
        (
            {
                "id": person_id,
                "given_name": "Bench",
                "family_name": f"Person {i}",
                "postcode": f"{rng.choice(POSTCODE_DISTRICTS)} {rng.randint(1, 9)}AB",
                "commissioner_id": broker[1],
                "broker_id": broker[0],
            }
            for i, (person_id, _user_id, broker) in enumerate(people)
        ),
    )
    copy_rows(
        connection,
        _table("users"),
        (_user(user_id, "person", person_id=pid) for pid, user_id, _b in people),
    )
    roles += [{"user_id": uid, "role": Role.PERSON.value} for _pid, uid, _b in people]
    copy_rows(connection, _table("user_roles"), roles)
    copy_rows(
        connection,
        _table("provider_memberships"),
        (
            {"user_id": uid, "organisation_id": org, "membership_role": "owner"}
            for uid, org in provider_staff
        ),
    )
    copy_rows(
        connection,
        _table("oauth_clients"),
        [
            {
                "client_id": BENCH_CLIENT_ID,
                "name": "Benchmark load",
                "is_public": True,
                "redirect_uris": [],
                "grant_types": ["authorization_code", "refresh_token"],
                "allowed_scopes": " ".join(sorted(scopes_for_roles({r.value for r in Role}))),
            }
        ],
    )

    tokens: list[dict[str, Any]] = []

    def token_for(user_id: str, role: Role) -> str:
        plaintext = generate_token()
        tokens.append(
            {
                "client_id": BENCH_CLIENT_ID,
                "user_id": user_id,
                "scope": " ".join(sorted(scopes_for_roles({role.value}))),
                "access_token_hash": token_hash(plaintext),
                "family_id": new_id(),
                "issued_at": now,
                "access_expires_at": now + timedelta(hours=12),
            }
        )
        return plaintext

    signing_in = rng.sample(people, min(len(people), 2_000))
    out.person_tokens = [(token_for(uid, Role.PERSON), pid) for pid, uid, _b in signing_in]
    out.broker_tokens = [token_for(uid, Role.BROKER) for uid, _c in brokers[:200]]
    out.provider_tokens = [
        (token_for(uid, Role.PROVIDER_STAFF), org) for uid, org in provider_staff[:200]
    ]
    out.admin_tokens = [token_for(uid, Role.ADMIN) for uid, _c in admins]
    out.person_ids = [pid for pid, _u, _b in people]
    out.person_accounts = {pid: (uid, broker[0], broker[1]) for pid, uid, broker in people}
    out.extra["organisation_ids"] = organisations
    out.extra["commissioner_ids"] = commissioner_ids
    copy_rows(connection, _table("oauth_tokens"), tokens)


def _user(user_id: str, kind: str, **values: Any) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": f"{kind}-{user_id}@bench.example",
        "display_name": f"Bench {kind}",
        **values,
    }


# Steps in load order, each domain after accounts (imported late: they use this module).
from bench.load_budgets import load_budgets_plans_bookings  # noqa: E402
from bench.load_ips import load_ips  # noqa: E402
from bench.load_offers import load_offers  # noqa: E402

LOAD_STEPS = [load_accounts, load_offers, load_budgets_plans_bookings, load_ips]
__all__ = ["LOAD_STEPS", "Generated", "Sizes", "load_accounts"]
