"""Vocational profile (If-Match), disclosure history, benefits planning with dated UC rates."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from employment.models import DatedRate
from tests.builders import bearer_for, build_person_user, build_provider_staff
from tests.employment.builders import build_referral, build_service

URL = "/v1/employment/referrals"


@pytest.fixture
def case(db_session: Session):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    service = build_service(db_session)
    organisation = db_session.get(ProviderOrganisation, service.provider_organisation_id)
    staff = build_provider_staff(db_session, organisation=organisation)
    person = build_person_user(db_session)
    referral = build_referral(
        db_session,
        service=service,
        person_id=person.person_id,
        status="accepted",
        accepted_on=date(2025, 4, 2),
    )
    return {
        "referral": referral,
        "staff": bearer_for(db_session, staff),
        "person": bearer_for(db_session, person),
        "other": bearer_for(db_session, build_person_user(db_session)),
    }


PROFILE = {
    "job_preferences": {
        "types_of_work": ["retail", "warehouse"],
        "hours_per_week_min": 16,
        "hours_per_week_max": 30,
        "places": ["Headingley"],
        "travel": "Bus, up to 40 minutes",
    },
    "strengths": ["reliable", "good with customers"],
    "work_history": [
        {
            "employer": "Corner Shop",
            "role": "Shop assistant",
            "started_on": "2015-01-01",
            "ended_on": "2017-06-30",
        }
    ],
    "education": [{"what": "GCSEs", "where": "Leeds", "year": 2004}],
}


def test_profile_life_cycle(client: FlaskClient, case):  # type: ignore[no-untyped-def]
    path = f"{URL}/{case['referral'].id}/profile"
    assert client.get(path, headers=case["person"]).status_code == 404
    created = client.put(path, json=PROFILE, headers=case["staff"])
    assert created.status_code == 201, created.json
    assert created.json["work_history"][0]["started_on"] == "2015-01-01"

    mine = client.get(path, headers=case["person"])
    assert mine.status_code == 200
    assert mine.json["job_preferences"]["types_of_work"] == ["retail", "warehouse"]
    assert client.get(path, headers=case["other"]).status_code == 404

    changed = {**PROFILE, "strengths": ["reliable"]}
    assert client.put(path, json=changed, headers=case["staff"]).status_code == 428
    updated = client.put(
        path, json=changed, headers={**case["staff"], "If-Match": mine.headers["ETag"]}
    )
    assert updated.status_code == 200
    stale = client.put(
        path, json=changed, headers={**case["staff"], "If-Match": mine.headers["ETag"]}
    )
    assert stale.status_code == 412
    assert client.put(path, json=PROFILE, headers=case["person"]).status_code == 403


def test_profile_validation(client, case):  # type: ignore[no-untyped-def]
    path = f"{URL}/{case['referral'].id}/profile"
    bad = {
        "job_preferences": {"hours_per_week_min": 30, "hours_per_week_max": 10, "diagnosis": "x"},
        "work_history": [{"employer": ""}],
    }
    response = client.put(path, json=bad, headers=case["staff"])
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"job_preferences", "work_history"}


def test_disclosure_history_is_kept(client, case):  # type: ignore[no-untyped-def]
    path = f"{URL}/{case['referral'].id}/disclosure-discussions"
    for day, decision in (("2025-04-10", "undecided"), ("2025-05-10", "partial")):
        response = client.post(
            path,
            json={"discussed_on": day, "decision": decision, "approach": "Tell at interview"},
            headers=case["staff"],
        )
        assert response.status_code == 201
    history = client.get(path, headers=case["person"]).json["items"]
    assert [d["decision"] for d in history] == ["partial", "undecided"]
    bad = client.post(
        path, json={"discussed_on": "2025-05-10", "decision": "maybe"}, headers=case["staff"]
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("held_on", "work_allowance", "reduction"),
    [
        ("2025-03-31", 40400, (100000 - 40400) * 55 // 100),
        ("2025-04-01", 41100, (100000 - 41100) * 55 // 100),
    ],
)
def test_benefits_planning_uses_the_rates_in_force(
    client, case, held_on, work_allowance, reduction
):  # type: ignore[no-untyped-def]
    response = client.post(
        f"{URL}/{case['referral'].id}/benefits-sessions",
        json={
            "held_on": held_on,
            "trigger": "before_job_start",
            "planned_monthly_earnings": {"amount": 100000, "currency": "GBP"},
            "has_work_allowance": True,
            "housing_costs_in_uc": True,
        },
        headers=case["staff"],
    )
    assert response.status_code == 201, response.json
    assert response.json["work_allowance"] == {"amount": work_allowance, "currency": "GBP"}
    assert response.json["taper_basis_points"] == 5500
    assert response.json["estimated_uc_reduction"] == {"amount": reduction, "currency": "GBP"}


def test_new_rate_row_changes_the_estimate_without_code(client, db_session, case):  # type: ignore[no-untyped-def]
    db_session.add(
        DatedRate(
            kind="uc_taper_rate",
            min_age=0,
            effective_from=date(2030, 4, 1),
            value=5000,
            unit="basis_points",
        )
    )
    db_session.flush()
    response = client.post(
        f"{URL}/{case['referral'].id}/benefits-sessions",
        json={
            "held_on": "2030-04-01",
            "trigger": "pay_change",
            "planned_monthly_earnings": {"amount": 100000, "currency": "GBP"},
            "has_work_allowance": False,
        },
        headers=case["staff"],
    )
    assert response.json["estimated_uc_reduction"]["amount"] == 50000
    listed = client.get(f"{URL}/{case['referral'].id}/benefits-sessions", headers=case["person"])
    assert listed.status_code == 200 and len(listed.json["items"]) == 1
    assert (
        client.get(
            f"{URL}/{case['referral'].id}/benefits-sessions", headers=case["other"]
        ).status_code
        == 404
    )


def test_benefits_validation(client, case):  # type: ignore[no-untyped-def]
    response = client.post(
        f"{URL}/{case['referral'].id}/benefits-sessions",
        json={
            "held_on": "2025-04-01",
            "trigger": "because",
            "planned_monthly_earnings": {"amount": 1.5},
        },
        headers=case["staff"],
    )
    assert response.status_code == 422
    assert {"trigger", "planned_monthly_earnings"} <= set(response.json["errors"])
