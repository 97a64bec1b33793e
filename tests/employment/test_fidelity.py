"""Job-outcome rules as data and IPS-25 fidelity reviews (total, band, pre-filled items)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from employment.rules import fidelity_band
from tests.builders import bearer_for, build_admin, build_person_user, build_provider_staff
from tests.employment.builders import build_service, build_specialist


@pytest.fixture
def svc(db_session: Session):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    service = build_service(db_session)
    build_specialist(db_session, service=service)
    organisation = db_session.get(ProviderOrganisation, service.provider_organisation_id)
    return {
        "service": service,
        "staff": bearer_for(
            db_session, build_provider_staff(db_session, organisation=organisation)
        ),
        "admin": bearer_for(
            db_session, build_admin(db_session, commissioner_id=service.commissioner_id)
        ),
        "person": bearer_for(db_session, build_person_user(db_session)),
    }


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (125, "exemplary"),
        (115, "exemplary"),
        (114, "good"),
        (100, "good"),
        (99, "fair"),
        (74, "fair"),
        (73, "not_ips"),
        (25, "not_ips"),
    ],
)
def test_fidelity_bands(total, band):  # type: ignore[no-untyped-def]
    assert fidelity_band(total) == band


def test_record_a_review(client: FlaskClient, svc):  # type: ignore[no-untyped-def]
    url = f"/v1/employment/services/{svc['service'].id}/fidelity-reviews"
    scores = {str(i): 4 for i in range(1, 26)}  # 100: good
    created = client.post(
        url,
        json={"reviewed_on": "2025-06-30", "reviewer_name": "IPS Grow", "scores": scores},
        headers=svc["admin"],
    )
    assert created.status_code == 201, created.json
    assert (created.json["total"], created.json["band"]) == (100, "good")
    missing = {k: v for k, v in scores.items() if k != "25"}
    short = client.post(
        url,
        json={"reviewed_on": "2025-06-30", "reviewer_name": "X", "scores": missing},
        headers=svc["staff"],
    )
    assert short.status_code == 422 and short.json["code"] == "fidelity-items"
    bad = client.post(
        url,
        json={
            "reviewed_on": "2025-06-30",
            "reviewer_name": "X",
            "scores": {**scores, "1": 6, "26": 3},
        },
        headers=svc["staff"],
    )
    assert bad.status_code == 422
    listed = client.get(url, headers=svc["staff"]).json["items"]
    assert [r["total"] for r in listed] == [100]
    assert client.get(url, headers=svc["person"]).status_code == 404


def test_prefill_lists_measurable_items(client, svc):  # type: ignore[no-untyped-def]
    url = f"/v1/employment/services/{svc['service'].id}/fidelity-reviews/prefill?as_of=2025-06-30"
    response = client.get(url, headers=svc["staff"])
    assert response.status_code == 200
    items = {i["item"]: i for i in response.json["items"]}
    assert set(items) == {1, 15, 17, 21, 24}
    assert items[1]["value"] == 0.0 and items[1]["suggested_score"] == 5
    assert items[15]["suggested_score"] is None  # nothing to measure yet


def test_outcome_rules_are_data(client, svc):  # type: ignore[no-untyped-def]
    url = f"/v1/employment/services/{svc['service'].id}/outcome-rules"
    body = {
        "name": "16h for 26 weeks",
        "min_hours_per_week": 16,
        "weeks_required": 26,
        "within_weeks": 26,
        "min_hourly_pay": {"amount": 1221, "currency": "GBP"},
    }
    created = client.post(url, json=body, headers=svc["admin"])
    assert created.status_code == 201, created.json
    assert created.json["min_hourly_pay"] == {"amount": 1221, "currency": "GBP"}
    assert client.post(url, json=body, headers=svc["staff"]).status_code == 409
    wrong = client.post(
        url,
        json={**body, "name": "x", "weeks_required": 20, "within_weeks": 16},
        headers=svc["staff"],
    )
    assert wrong.status_code == 422
    assert [r["name"] for r in client.get(url, headers=svc["staff"]).json["items"]] == [
        "16h for 26 weeks"
    ]
    assert client.post(url, json=body, headers=svc["person"]).status_code == 404
