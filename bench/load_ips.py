"""IPS employment support: services run by provider organisations, their specialists,
referrals at every stage with their contacts, and some job starts.

Services are run by the first organisations (whose staff have tokens), so the metrics
journey reads a service as its own staff would.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg

from app.db import new_id, utcnow
from app.model_registry import metadata
from bench.copy_load import copy_rows
from bench.sizes import Generated, Sizes
from employment.rules import CONTACT_WITH

SPECIALISTS_PER_SERVICE = 5
CONTACTS_PER_REFERRAL = 6
REFERRALS_PER_SERVICE = 200  # a service's referrals over the years, open and closed


def load_ips(
    connection: psycopg.Connection[Any], sizes: Sizes, rng: random.Random, out: Generated
) -> None:
    """One service per REFERRALS_PER_SERVICE referrals, with `sizes.referrals` in all.

    A service's caseload stays the same size at every scale, as real services' do: a
    bigger dataset has more services, not bigger ones. So "IPS metrics for a service"
    compares like with like across scales (its cost follows the one caseload it reads).
    """
    from bench.dataset import POSTCODE_DISTRICTS

    tables = metadata.tables
    today = utcnow().date()
    staffed = out.provider_tokens or [("", org) for org in out.extra["organisation_ids"]]
    n_services = max(1, min(len(staffed), sizes.referrals // REFERRALS_PER_SERVICE))
    commissioners: list[str] = out.extra["commissioner_ids"]
    services = [(new_id(), token, org) for token, org in staffed[:n_services]]
    copy_rows(
        connection,
        tables["ips_services"],
        (
            {
                "id": sid,
                "provider_organisation_id": org,
                "commissioner_id": commissioners[i % len(commissioners)],
                "name": f"Bench IPS service {i}",
                "integrated_teams": ["Community mental health team"],
                "contact_email": f"ips-{i}@bench.example",
            }
            for i, (sid, _t, org) in enumerate(services)
        ),
    )
    copy_rows(
        connection,
        tables["ips_service_areas"],
        (
            {"service_id": sid, "postcode_district": code}
            for sid, _t, _o in services
            for code in rng.sample(POSTCODE_DISTRICTS, 4)
        ),
    )
    users: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    roles: list[dict[str, Any]] = []
    specialists: dict[str, list[dict[str, Any]]] = {}
    for sid, _t, org in services:
        specialists[sid] = []
        for _ in range(SPECIALISTS_PER_SERVICE):
            user_id, specialist_id = new_id(), new_id()
            users.append(
                {
                    "id": user_id,
                    "email": f"ips-{user_id}@bench.example",
                    "display_name": "Bench specialist",
                }
            )
            roles.append({"user_id": user_id, "role": "provider_staff"})
            memberships.append(
                {"user_id": user_id, "organisation_id": org, "membership_role": "staff"}
            )
            specialists[sid].append({"id": specialist_id, "service_id": sid, "user_id": user_id})
    copy_rows(connection, tables["users"], users)
    copy_rows(connection, tables["user_roles"], roles)
    copy_rows(connection, tables["provider_memberships"], memberships)
    copy_rows(
        connection,
        tables["ips_specialists"],
        ({**s, "fte": Decimal("1.00")} for rows in specialists.values() for s in rows),
    )

    referrals: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    stages = ["received", "accepted", "first_contact", "active", "active", "discharged"]
    for _ in range(sizes.referrals):
        sid, _t, _o = rng.choice(services)
        status = rng.choice(stages)
        received = today - timedelta(days=rng.randint(10, 700))
        referral: dict[str, Any] = {
            "id": new_id(),
            "service_id": sid,
            "person_id": rng.choice(out.person_ids),
            "source": rng.choice(["self", "broker", "clinician"]),
            "status": status,
            "received_on": received,
        }
        specialist = rng.choice(specialists[sid])["id"]
        if status != "received":
            referral |= {"accepted_on": received + timedelta(days=3), "specialist_id": specialist}
        if status in ("first_contact", "active", "discharged"):
            referral["first_contact_on"] = received + timedelta(days=6)
        if status in ("active", "discharged"):
            referral["active_on"] = received + timedelta(days=9)
        if status == "discharged":
            referral["discharged_on"] = min(today, received + timedelta(days=200))
            referral["closure_reason"] = "in_work_no_longer_needs_support"
        referrals.append(referral)
        if status in ("first_contact", "active", "discharged"):
            for k in range(CONTACTS_PER_REFERRAL):
                contacts.append(
                    {
                        "referral_id": referral["id"],
                        "specialist_id": specialist,
                        "occurred_on": min(today, received + timedelta(days=6 + 9 * k)),
                        "with_whom": rng.choice(CONTACT_WITH),
                        "mode": rng.choice(["in_person", "remote"]),
                        "setting": rng.choice(["community", "office"]),
                    }
                )
        if status in ("active", "discharged") and rng.random() < 0.4:
            jobs.append(
                {
                    "referral_id": referral["id"],
                    "employer_name": "Bench Employer Ltd",
                    "role": "Retail assistant",
                    "start_date": received + timedelta(days=60),
                    "hours_per_week": Decimal("16.00"),
                    "hourly_pay_pence": 1_221,
                    "is_competitive": True,
                    "four_paid_hours_on": received + timedelta(days=67),
                }
            )
    copy_rows(connection, tables["ips_referrals"], referrals)
    copy_rows(connection, tables["ips_contacts"], contacts)
    copy_rows(connection, tables["ips_jobs"], jobs)
    out.ips_services = [(token, sid) for sid, token, _o in services if token]
