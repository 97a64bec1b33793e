"""The measures against a hand-worked example, with dates on both sides of each boundary:
day 30/31 to the first employer contact, 4 paid hours, 13 weeks, the financial-year start,
the 4-week active window, and follow-along due dates.

The example (period 2025-04-01 to 2025-06-30, 13 weeks; specialists A 1.0 FTE, B 0.5 FTE):

| ref | spec | accepted   | first contact | notes                                                |
| R1  | A    | 2025-04-01 | 2025-04-03    | employer contact day 30; job J1 16h, 4h 2025-05-13   |
| R2  | A    | 2025-04-01 | 2025-04-02    | employer contact day 31; J2 reserved (not counted)   |
| R3  | B    | 2025-03-31 | 2025-03-31    | in work at referral; J3 30h, 4h 2025-04-14           |
| R4  | B    | 2025-04-10 | -             | employer contact day 81; J4 started 2025-06-20, 4    |
|     |      |            |               | paid hours not yet reached                           |
| R5  | A    | 2024-01-08 | 2024-01-10    | J5a 2024 (first), J5b ended 1 day short of 13 weeks, |
|     |      |            |               | J5d 4h/week, 4h 2025-06-03 (not first)               |
| R6  | B    | 2024-10-01 | 2024-10-02    | J6 ended exactly at 13 weeks; discharged 2025-03-31  |
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import Commissioner, User
from employment.metrics.measures import financial_year_start, rolling_year_start
from employment.models import (
    Contact,
    Employer,
    EmployerContact,
    EmployerContactPerson,
    Job,
    OutcomeRule,
)
from tests.builders import (
    bearer_for,
    build_admin,
    build_commissioner,
    build_person_user,
    build_provider_staff,
)
from tests.employment.builders import build_referral, build_service, build_specialist

D = date.fromisoformat
PERIOD = "period_start=2025-04-01&period_end=2025-06-30"


def _job(
    session: Session,
    referral,
    start: str,
    hours: int,
    *,
    four: str | None,  # type: ignore[no-untyped-def]
    end: str | None = None,
    competitive: bool = True,
) -> Job:
    job = Job(
        referral_id=referral.id,
        employer_name="Employer",
        role="Role",
        start_date=D(start),
        hours_per_week=Decimal(hours),
        hourly_pay_pence=1300,
        minimum_wage_pence=1221,
        is_competitive=competitive,
        open_to_anyone=competitive,
        four_paid_hours_on=D(four) if four else None,
        end_date=D(end) if end else None,
        end_reason="resigned" if end else None,
    )
    session.add(job)
    session.flush()
    return job


def _contact(session: Session, referral, day: str, job: Job | None = None) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Contact(
            referral_id=referral.id,
            occurred_on=D(day),
            with_whom="person",
            mode="in_person",
            setting="community",
            job_id=job.id if job else None,
        )
    )


def _employer_contact(session, service, specialist, employer, day, referrals, *, f2f=True):  # type: ignore[no-untyped-def]
    contact = EmployerContact(
        service_id=service.id,
        specialist_id=specialist.id,
        employer_id=employer.id,
        occurred_on=D(day),
        face_to_face=f2f,
        purpose="job_development",
        people=[EmployerContactPerson(referral_id=r.id) for r in referrals],
    )
    session.add(contact)


@pytest.fixture
def example(db_session: Session):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    s = db_session
    commissioner = build_commissioner(s)
    service = build_service(s, commissioner=commissioner)
    organisation = s.get(ProviderOrganisation, service.provider_organisation_id)
    a = build_specialist(s, service=service, fte="1.00")
    b = build_specialist(s, service=service, fte="0.50")

    def referral(spec, accepted, first, *, in_work=False, discharged=None):  # type: ignore[no-untyped-def]
        return build_referral(
            s,
            service=service,
            person_id=build_person_user(s).person_id,
            specialist_id=spec.id,
            status="discharged" if discharged else "active",
            received_on=D(accepted),
            accepted_on=D(accepted),
            first_contact_on=D(first) if first else None,
            in_work_at_referral=in_work,
            discharged_on=D(discharged) if discharged else None,
            closure_reason="lost_contact" if discharged else None,
        )

    r1 = referral(a, "2025-04-01", "2025-04-03")
    r2 = referral(a, "2025-04-01", "2025-04-02")
    r3 = referral(b, "2025-03-31", "2025-03-31", in_work=True)
    r4 = referral(b, "2025-04-10", None)
    r5 = referral(a, "2024-01-08", "2024-01-10")
    r6 = referral(b, "2024-10-01", "2024-10-02", discharged="2025-03-31")

    j1 = _job(s, r1, "2025-05-12", 16, four="2025-05-13")
    _job(s, r2, "2025-06-01", 20, four="2025-06-01", competitive=False)
    j3 = _job(s, r3, "2025-04-14", 30, four="2025-04-14")
    _job(s, r4, "2025-06-20", 20, four=None)
    _job(s, r5, "2024-03-25", 10, four="2024-03-26", end="2024-06-23")
    _job(s, r5, "2025-01-06", 10, four="2025-01-06", end="2025-04-06")
    j5d = _job(s, r5, "2025-06-02", 4, four="2025-06-03")
    _job(s, r6, "2025-01-06", 20, four="2025-01-07", end="2025-04-07")

    # Direct contacts: active means a contact in the 4 weeks up to 2025-06-30.
    _contact(s, r1, "2025-06-03")  # 27 days before: active
    _contact(s, r2, "2025-06-02")  # 28 days before: not active
    _contact(s, r3, "2025-06-30")
    _contact(s, r5, "2025-06-10")
    # In-work support
    _contact(s, r1, "2025-06-01", j1)  # monthly after the first month: due 07-02
    _contact(s, r3, "2025-05-29", j3)  # due 06-29: overdue on 06-30
    _contact(s, r3, "2025-07-01", j3)  # after the period end: does not make it on time
    _contact(s, r5, "2025-06-23", j5d)  # first month, weekly: due 06-30, on time

    employer = Employer(service_id=service.id, name="Kirkstall Bakery")
    s.add(employer)
    s.flush()
    _employer_contact(s, service, a, employer, "2025-03-31", [r1])  # before acceptance, ignored
    _employer_contact(s, service, a, employer, "2025-05-01", [r1])  # day 30
    _employer_contact(s, service, a, employer, "2025-05-02", [r2])  # day 31
    _employer_contact(s, service, a, employer, "2025-05-03", [r2], f2f=False)
    _employer_contact(s, service, b, employer, "2025-06-30", [r4])

    s.add_all(
        [
            OutcomeRule(
                service_id=service.id,
                name="16h for 26 weeks",
                min_hours_per_week=16,
                weeks_required=26,
                within_weeks=26,
                requires_minimum_wage=True,
            ),
            OutcomeRule(
                service_id=service.id,
                name="7h for 13 of 16 weeks",
                min_hours_per_week=7,
                weeks_required=13,
                within_weeks=16,
                requires_minimum_wage=True,
            ),
        ]
    )
    s.flush()
    staff = build_provider_staff(s, organisation=organisation)
    return {
        "service": service,
        "a": a,
        "b": b,
        "commissioner": commissioner,
        "staff": bearer_for(s, staff),
    }


def test_every_measure_matches_the_hand_worked_example(client: FlaskClient, db_session, example):  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/employment/services/{example['service'].id}/metrics?{PERIOD}",
        headers=example["staff"],
    )
    assert response.status_code == 200, response.json
    m = response.json
    assert m["access"] == {
        "in_period": 2,  # R1, R2 (R3's first contact is the day before)
        "rolling_12_months": {"start": "2024-07-01", "end": "2025-06-30", "count": 4},
        "financial_year_to_date": {"start": "2025-04-01", "end": "2025-06-30", "count": 2},
    }
    assert m["caseload"] == {"active_people": 3, "fte": 1.5, "active_per_fte": 2.0}
    assert m["rapid_job_search"] == {
        "referrals_accepted": 3,
        "with_employer_contact": 3,  # days 30, 31 and 81 (R4)
        "within_30_days": 1,
        "share_within_30_days": 0.3333,
        "median_days": 31,
        "mean_days": 47.3,
    }
    assert m["employer_contacts"] == {
        "face_to_face": 3,
        "weeks": 13.0,
        "per_specialist_per_week": 0.12,
        "per_fte_per_week": 0.15,
    }
    assert m["job_starts"] == {"all": 3, "first": 2}
    assert m["hours_bands"] == {"30+": 1, "16-29": 1, "5-15": 0, "1-4": 1, "under 1": 0}
    assert m["employment_rate"] == {"out_of_work_accessed": 3, "started_a_job": 2, "rate": 0.6667}
    assert m["sustainment"] == {
        "13_weeks": {"due": 2, "sustained": 1, "rate": 0.5},
        "26_weeks": {"due": 0, "sustained": 0, "rate": None},
        "52_weeks": {"due": 0, "sustained": 0, "rate": None},
    }
    assert m["follow_along"] == {"jobs_held": 5, "supported_on_time": 3, "compliance": 0.6}
    assert m["job_outcomes"] == [
        {"rule": "16h for 26 weeks", "achieved": 0},
        {"rule": "7h for 13 of 16 weeks", "achieved": 1},
    ]
    by = {s["specialist_id"]: s for s in m["by_specialist"]}
    assert by[example["a"].id]["caseload"] == {
        "active_people": 2,
        "fte": 1.0,
        "active_per_fte": 2.0,
    }
    assert by[example["b"].id]["caseload"] == {
        "active_people": 1,
        "fte": 0.5,
        "active_per_fte": 2.0,
    }
    assert by[example["a"].id]["employer_contacts"]["face_to_face"] == 2
    assert by[example["a"].id]["job_starts"] == {"all": 2, "first": 1}
    assert by[example["b"].id]["job_starts"] == {"all": 1, "first": 1}
    for specialist in (example["a"], example["b"]):
        user = db_session.get(User, specialist.user_id)
        assert by[specialist.id]["display_name"] == user.display_name


def test_shifting_the_period_moves_each_boundary(client, example):  # type: ignore[no-untyped-def]
    url = f"/v1/employment/services/{example['service'].id}/metrics"
    day_before = client.get(
        f"{url}?period_start=2025-03-31&period_end=2025-03-31", headers=example["staff"]
    ).json
    assert day_before["access"]["in_period"] == 1  # R3
    assert day_before["access"]["financial_year_to_date"] == {
        "start": "2024-04-01",
        "end": "2025-03-31",
        "count": 2,  # R3 and R6
    }
    # J5b reaches 13 weeks on 2025-04-07 (ended the day before), J6 on 2025-04-07 (ended that day).
    thirteen = client.get(
        f"{url}?period_start=2025-04-07&period_end=2025-04-07", headers=example["staff"]
    ).json
    assert thirteen["sustainment"]["13_weeks"] == {"due": 2, "sustained": 1, "rate": 0.5}
    # 4 paid hours: J1 reached them on 05-13, so a period ending 05-12 has no start for R1.
    before_four = client.get(
        f"{url}?period_start=2025-05-12&period_end=2025-05-12", headers=example["staff"]
    ).json
    on_four = client.get(
        f"{url}?period_start=2025-05-13&period_end=2025-05-13", headers=example["staff"]
    ).json
    assert before_four["job_starts"]["all"] == 0
    assert on_four["job_starts"] == {"all": 1, "first": 1}


def test_csv_export(client, example):  # type: ignore[no-untyped-def]
    response = client.get(
        f"/v1/employment/services/{example['service'].id}/metrics.csv?{PERIOD}",
        headers=example["staff"],
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "service_id,period_start,period_end,scope,measure,value"
    service_id = example["service"].id
    assert f"{service_id},2025-04-01,2025-06-30,service,access.in_period,2" in lines
    assert (
        f"{service_id},2025-04-01,2025-06-30,service,job_outcomes.7h for 13 of 16 weeks,1" in lines
    )
    assert any(line.startswith(f"{service_id},2025-04-01,2025-06-30,specialist:") for line in lines)


def test_who_sees_the_metrics(client, db_session, example):  # type: ignore[no-untyped-def]
    url = f"/v1/employment/services/{example['service'].id}/metrics?{PERIOD}"
    own_admin = build_admin(db_session, commissioner_id=example["commissioner"].id)
    assert client.get(url, headers=bearer_for(db_session, own_admin)).status_code == 200
    for user in (
        build_admin(db_session),
        build_person_user(db_session, commissioner_id=example["commissioner"].id),
        build_provider_staff(db_session),
    ):
        assert client.get(url, headers=bearer_for(db_session, user)).status_code == 404


def test_period_validation(client, example):  # type: ignore[no-untyped-def]
    url = f"/v1/employment/services/{example['service'].id}/metrics"
    assert client.get(url, headers=example["staff"]).status_code == 422
    backwards = client.get(
        f"{url}?period_start=2025-06-30&period_end=2025-04-01", headers=example["staff"]
    )
    assert backwards.status_code == 422


@pytest.mark.parametrize(
    ("day", "start"),
    [(date(2025, 3, 31), date(2024, 4, 1)), (date(2025, 4, 1), date(2025, 4, 1))],
)
def test_financial_year_starts_on_1_april(day, start):  # type: ignore[no-untyped-def]
    assert financial_year_start(day) == start


def test_rolling_year_from_29_february():
    assert rolling_year_start(date(2028, 2, 29)) == date(2027, 3, 1)
    assert rolling_year_start(date(2025, 6, 30)) == date(2024, 7, 1)


def test_commissioner_fixture_is_real(db_session, example):  # type: ignore[no-untyped-def]
    assert db_session.get(Commissioner, example["commissioner"].id) is not None
