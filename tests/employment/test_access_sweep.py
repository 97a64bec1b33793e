"""Every IPS record endpoint, tried by someone it does not belong to: another provider's
staff and another person get 404 (never the record, never a 500)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from employment.models import Appointment, Employer, Job, VocationalProfile
from tests.builders import bearer_for, build_admin, build_person_user, build_provider_staff
from tests.employment.builders import build_referral, build_service, build_specialist

READS = [
    "/referrals/{referral}",
    "/referrals/{referral}/contacts",
    "/referrals/{referral}/appointments",
    "/referrals/{referral}/profile",
    "/referrals/{referral}/disclosure-discussions",
    "/referrals/{referral}/benefits-sessions",
    "/referrals/{referral}/jobs",
    "/jobs/{job}",
    "/people/{person}/journey",
    "/services/{service}/metrics?period_start=2025-04-01&period_end=2025-06-30",
    "/services/{service}/metrics.csv?period_start=2025-04-01&period_end=2025-06-30",
    "/services/{service}/outcome-rules",
    "/services/{service}/fidelity-reviews",
    "/services/{service}/fidelity-reviews/prefill",
]
STAFF_ONLY_READS = [
    "/services/{service}/specialists",
    "/specialists/{specialist}",
    "/services/{service}/employers",
    "/services/{service}/employer-contacts",
    "/services/{service}/follow-along",
]
WRITES = [
    ("patch", "/services/{service}", {"name": "Mine now"}),
    ("post", "/services/{service}/specialists", {"user_id": "{staff_user}", "fte": 1}),
    ("patch", "/specialists/{specialist}", {"fte": 0.5}),
    (
        "post",
        "/referrals/{referral}/accept",
        {"specialist_id": "{specialist}", "accepted_on": "2025-04-02"},
    ),
    ("post", "/referrals/{referral}/reassign", {"specialist_id": "{specialist}"}),
    ("post", "/referrals/{referral}/activate", {"active_on": "2025-04-02"}),
    (
        "post",
        "/referrals/{referral}/discharge",
        {"discharged_on": "2025-04-02", "reason": "lost_contact"},
    ),
    (
        "post",
        "/referrals/{referral}/contacts",
        {"occurred_on": "2025-04-03", "with_whom": "person", "mode": "remote"},
    ),
    (
        "post",
        "/referrals/{referral}/appointments",
        {"starts_at": "2030-01-01T10:00:00+00:00", "mode": "remote"},
    ),
    ("post", "/appointments/{appointment}/cancel", None),
    ("put", "/referrals/{referral}/profile", {"job_preferences": {}}),
    (
        "post",
        "/referrals/{referral}/disclosure-discussions",
        {"discussed_on": "2025-04-03", "decision": "none"},
    ),
    (
        "post",
        "/referrals/{referral}/benefits-sessions",
        {"held_on": "2025-04-03", "trigger": "initial"},
    ),
    (
        "post",
        "/referrals/{referral}/jobs",
        {
            "employer_name": "X",
            "role": "Y",
            "start_date": "2025-05-01",
            "hours_per_week": 10,
            "hourly_pay": {"amount": 1300, "currency": "GBP"},
        },
    ),
    ("patch", "/jobs/{job}", {"end_date": "2025-06-01", "end_reason": "resigned"}),
    ("post", "/services/{service}/employers", {"name": "Z"}),
    (
        "post",
        "/services/{service}/employer-contacts",
        {
            "employer_id": "{employer}",
            "occurred_on": "2025-04-03",
            "face_to_face": True,
            "purpose": "job_development",
        },
    ),
    (
        "post",
        "/services/{service}/outcome-rules",
        {"name": "r", "min_hours_per_week": 16, "weeks_required": 13, "within_weeks": 13},
    ),
    (
        "post",
        "/services/{service}/fidelity-reviews",
        {
            "reviewed_on": "2025-04-03",
            "reviewer_name": "R",
            "scores": {str(i): 3 for i in range(1, 26)},
        },
    ),
]


@pytest.fixture
def ids(db_session: Session) -> dict[str, str]:
    from budgets.providers.models import ProviderOrganisation

    service = build_service(db_session)
    organisation = db_session.get(ProviderOrganisation, service.provider_organisation_id)
    staff = build_provider_staff(db_session, organisation=organisation)
    specialist = build_specialist(db_session, service=service, user=staff)
    person = build_person_user(db_session)
    referral = build_referral(
        db_session,
        service=service,
        person_id=person.person_id,
        status="active",
        accepted_on=date(2025, 4, 1),
        first_contact_on=date(2025, 4, 2),
        specialist_id=specialist.id,
    )
    job = Job(
        referral_id=referral.id,
        employer_name="E",
        role="R",
        start_date=date(2025, 5, 1),
        hours_per_week=Decimal(16),
        hourly_pay_pence=1300,
        is_competitive=True,
    )
    appointment = Appointment(
        referral_id=referral.id, mode="remote", starts_at=datetime.now(UTC) + timedelta(days=1)
    )
    employer = Employer(service_id=service.id, name="Employer")
    db_session.add_all(
        [job, appointment, employer, VocationalProfile(referral_id=referral.id, job_preferences={})]
    )
    db_session.flush()
    return {
        "service": service.id,
        "specialist": specialist.id,
        "referral": referral.id,
        "person": person.person_id,
        "job": job.id,
        "appointment": appointment.id,
        "employer": employer.id,
        "staff_user": staff.id,
    }


def _fill(template: object, ids: dict[str, str]) -> object:
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {k: _fill(v, ids) for k, v in template.items()}
    return template


@pytest.mark.parametrize("path", READS + STAFF_ONLY_READS)
def test_another_providers_staff_get_404_on_reads(client: FlaskClient, db_session, ids, path):  # type: ignore[no-untyped-def]
    headers = bearer_for(db_session, build_provider_staff(db_session))
    response = client.get("/v1/employment" + path.format(**ids), headers=headers)
    assert response.status_code == 404, (path, response.status_code)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", READS)
def test_another_person_gets_404_on_reads(client, db_session, ids, path):  # type: ignore[no-untyped-def]
    headers = bearer_for(db_session, build_person_user(db_session))
    response = client.get("/v1/employment" + path.format(**ids), headers=headers)
    assert response.status_code == 404, (path, response.status_code)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_another_providers_staff_get_404_on_writes(client, db_session, ids, method, path, body):  # type: ignore[no-untyped-def]
    headers = {**bearer_for(db_session, build_provider_staff(db_session)), "If-Match": "*"}
    response = getattr(client, method)(
        "/v1/employment" + path.format(**ids), json=_fill(body, ids), headers=headers
    )
    assert response.status_code == 404, (path, response.status_code, response.json)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_the_owning_service_passes_the_access_check(client, db_session, ids, method, path, body):  # type: ignore[no-untyped-def]
    staff = db_session.get(User, ids["staff_user"])
    headers = {**bearer_for(db_session, staff), "If-Match": "*"}
    response = getattr(client, method)(
        "/v1/employment" + path.format(**ids), json=_fill(body, ids), headers=headers
    )
    assert response.status_code != 404 and response.status_code < 500, (
        path,
        response.status_code,
        response.json,
    )


def test_admin_of_another_commissioner_sees_no_metrics(client, db_session, ids):  # type: ignore[no-untyped-def]
    headers = bearer_for(db_session, build_admin(db_session))
    response = client.get(
        f"/v1/employment/services/{ids['service']}/metrics?period_start=2025-04-01"
        "&period_end=2025-06-30",
        headers=headers,
    )
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("garbage", [[], "text", {"unexpected": 1}, None])
def test_garbage_bodies_get_problem_json_not_500(
    client, db_session, ids, method, path, body, garbage
):  # type: ignore[no-untyped-def]
    staff = db_session.get(User, ids["staff_user"])
    headers = {**bearer_for(db_session, staff), "If-Match": "*"}
    payload = {k: garbage for k in (body or {"x": 1})} if garbage is None else garbage
    response = getattr(client, method)(
        "/v1/employment" + path.format(**ids), json=payload, headers=headers
    )
    if body is None or garbage is None:  # takes no body / nulls may be allowed (clearing a date)
        assert response.status_code < 500
        return
    assert 400 <= response.status_code < 500, (path, garbage, response.status_code)
    assert response.mimetype == "application/problem+json"
