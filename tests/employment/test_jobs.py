"""Employers, employer contacts, jobs (competitive employment against the dated minimum
wage for the person's age) and follow-along support flags."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import Person
from employment.jobs.follow_along import follow_along_status
from employment.models import Contact
from tests.builders import bearer_for, build_person_user, build_provider_staff
from tests.employment.builders import build_referral, build_service, build_specialist


@pytest.fixture
def setup(db_session: Session):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    service = build_service(db_session)
    organisation = db_session.get(ProviderOrganisation, service.provider_organisation_id)
    staff = build_provider_staff(db_session, organisation=organisation)
    specialist = build_specialist(db_session, service=service, user=staff)
    person = build_person_user(db_session, date_of_birth=date(2004, 6, 15))
    referral = build_referral(
        db_session,
        service=service,
        person_id=person.person_id,
        status="active",
        accepted_on=date(2025, 4, 2),
        specialist_id=specialist.id,
    )
    return {
        "service": service,
        "specialist": specialist,
        "referral": referral,
        "staff": bearer_for(db_session, staff),
        "person": bearer_for(db_session, person),
        "other_staff": bearer_for(db_session, build_provider_staff(db_session)),
    }


def _job(**overrides: object) -> dict:
    body = {
        "employer_name": "Kirkstall Bakery",
        "role": "Baker's assistant",
        "start_date": "2025-06-16",
        "hours_per_week": 16,
        "hourly_pay": {"amount": 1221, "currency": "GBP"},
    }
    body.update(overrides)
    return body


class TestCompetitiveEmployment:
    @pytest.mark.parametrize(
        ("start_date", "pay", "competitive", "minimum"),
        [
            # Born 2004-06-15: 20 the day before the 21st birthday, 21 on it (2025 rates).
            ("2025-06-14", 1000, True, 1000),
            ("2025-06-14", 999, False, 1000),
            ("2025-06-15", 1000, False, 1221),
            ("2025-06-15", 1221, True, 1221),
            # The rate that applies is the one in force on the start date.
            ("2025-03-31", 860, True, 860),
            ("2025-04-01", 860, False, 1000),
        ],
    )
    def test_minimum_wage_for_age_on_the_start_date(  # type: ignore[no-untyped-def]
        self, client: FlaskClient, setup, start_date, pay, competitive, minimum
    ):
        response = client.post(
            f"/v1/employment/referrals/{setup['referral'].id}/jobs",
            json=_job(start_date=start_date, hourly_pay={"amount": pay, "currency": "GBP"}),
            headers=setup["staff"],
        )
        assert response.status_code == 201, response.json
        assert response.json["is_competitive"] is competitive
        assert response.json["minimum_wage"]["amount"] == minimum

    def test_reserved_job_and_self_employment_are_not_competitive(self, client, setup):  # type: ignore[no-untyped-def]
        path = f"/v1/employment/referrals/{setup['referral'].id}/jobs"
        reserved = client.post(path, json=_job(open_to_anyone=False), headers=setup["staff"])
        assert reserved.json["is_competitive"] is False
        own = client.post(path, json=_job(is_self_employment=True), headers=setup["staff"])
        assert own.json["is_competitive"] is False and own.json["is_self_employment"] is True

    def test_unknown_age_uses_the_adult_rate(self, client, db_session, setup):  # type: ignore[no-untyped-def]
        db_session.get(Person, setup["referral"].person_id).date_of_birth = None
        response = client.post(
            f"/v1/employment/referrals/{setup['referral'].id}/jobs",
            json=_job(hourly_pay={"amount": 1000, "currency": "GBP"}),
            headers=setup["staff"],
        )
        assert response.json["minimum_wage"]["amount"] == 1221
        assert response.json["is_competitive"] is False


class TestJobLifeCycle:
    def test_record_reach_four_hours_and_end(self, client, setup):  # type: ignore[no-untyped-def]
        created = client.post(
            f"/v1/employment/referrals/{setup['referral'].id}/jobs",
            json=_job(hours_per_week=29.5),
            headers={**setup["staff"], "Idempotency-Key": "job-1"},
        )
        assert created.status_code == 201
        assert created.json["hours_band"] == "16-29"
        job_path = f"/v1/employment/jobs/{created.json['id']}"
        etag = created.headers["ETag"]
        assert (
            client.patch(
                job_path, json={"four_paid_hours_on": "2025-06-17"}, headers=setup["staff"]
            ).status_code
            == 428
        )
        four = client.patch(
            job_path,
            json={"four_paid_hours_on": "2025-06-17"},
            headers={**setup["staff"], "If-Match": etag},
        )
        assert four.status_code == 200
        no_reason = client.patch(
            job_path,
            json={"end_date": "2025-12-01"},
            headers={**setup["staff"], "If-Match": four.headers["ETag"]},
        )
        assert no_reason.status_code == 422 and no_reason.json["code"] == "end-needs-reason"
        ended = client.patch(
            job_path,
            json={"end_date": "2025-12-01", "end_reason": "moved_to_better_job"},
            headers={**setup["staff"], "If-Match": four.headers["ETag"]},
        )
        assert ended.status_code == 200 and ended.json["end_reason"] == "moved_to_better_job"
        mine = client.get(
            f"/v1/employment/referrals/{setup['referral'].id}/jobs", headers=setup["person"]
        )
        assert [j["id"] for j in mine.json["items"]] == [created.json["id"]]
        assert client.get(job_path, headers=setup["other_staff"]).status_code == 404
        assert client.patch(job_path, json={}, headers=setup["person"]).status_code == 403

    def test_job_validation(self, client, setup):  # type: ignore[no-untyped-def]
        path = f"/v1/employment/referrals/{setup['referral'].id}/jobs"
        bad = client.post(
            path,
            json={
                "role": "",
                "hours_per_week": 0,
                "hourly_pay": {"amount": 0, "currency": "GBP"},
                "volunteering": True,
            },
            headers=setup["staff"],
        )
        assert bad.status_code == 422
        assert {"role", "hours_per_week", "hourly_pay", "start_date", "volunteering"} <= set(
            bad.json["errors"]
        )
        early = client.post(
            path, json=_job(four_paid_hours_on="2025-06-01"), headers=setup["staff"]
        )
        assert early.status_code == 422 and early.json["code"] == "date-before-job-start"
        assert client.post(path, json=_job(), headers=setup["other_staff"]).status_code == 404


class TestEmployers:
    def test_employers_and_contacts_for_people(self, client, setup):  # type: ignore[no-untyped-def]
        base = f"/v1/employment/services/{setup['service'].id}"
        employer = client.post(
            f"{base}/employers",
            json={"name": "Kirkstall Bakery", "sector": "Food"},
            headers=setup["staff"],
        )
        assert employer.status_code == 201
        again = client.post(
            f"{base}/employers", json={"name": "Kirkstall Bakery"}, headers=setup["staff"]
        )
        assert again.status_code == 409
        contact = client.post(
            f"{base}/employer-contacts",
            json={
                "employer_id": employer.json["id"],
                "occurred_on": "2025-04-20",
                "face_to_face": True,
                "purpose": "job_development",
                "referral_ids": [setup["referral"].id],
            },
            headers=setup["staff"],
        )
        assert contact.status_code == 201, contact.json
        assert contact.json["specialist_id"] == setup["specialist"].id
        assert contact.json["referral_ids"] == [setup["referral"].id]
        stranger = build_referral_elsewhere(client, setup)
        bad = client.post(
            f"{base}/employer-contacts",
            json={
                "employer_id": employer.json["id"],
                "occurred_on": "2025-04-20",
                "face_to_face": True,
                "purpose": "job_development",
                "referral_ids": [stranger],
            },
            headers=setup["staff"],
        )
        assert bad.status_code == 422 and bad.json["code"] == "referral-not-in-service"
        listed = client.get(f"{base}/employer-contacts", headers=setup["staff"])
        assert len(listed.json["items"]) == 1
        assert (
            client.get(f"{base}/employer-contacts", headers=setup["other_staff"]).status_code == 404
        )
        assert client.get(f"{base}/employers", headers=setup["person"]).status_code == 403


def build_referral_elsewhere(client, setup) -> str:  # type: ignore[no-untyped-def]
    return "00000000-0000-7000-8000-000000000999"


class TestFollowAlong:
    @pytest.mark.parametrize(
        ("last", "as_of", "due", "overdue"),
        [
            (None, date(2025, 6, 8), date(2025, 6, 8), False),  # a week after the start
            (None, date(2025, 6, 9), date(2025, 6, 8), True),
            (date(2025, 6, 20), date(2025, 6, 27), date(2025, 6, 27), False),
            (date(2025, 6, 20), date(2025, 6, 28), date(2025, 6, 27), True),
            # after the first month: monthly
            (date(2025, 6, 27), date(2025, 7, 20), date(2025, 7, 28), False),
            (date(2025, 6, 27), date(2025, 7, 29), date(2025, 7, 28), True),
        ],
    )
    def test_due_dates(self, last, as_of, due, overdue):  # type: ignore[no-untyped-def]
        status = follow_along_status(date(2025, 6, 1), last, as_of)
        assert (status.due_by, status.overdue) == (due, overdue)

    def test_overdue_list(self, client, db_session, setup):  # type: ignore[no-untyped-def]
        path = f"/v1/employment/referrals/{setup['referral'].id}/jobs"
        job = client.post(path, json=_job(start_date="2025-06-01"), headers=setup["staff"]).json
        url = f"/v1/employment/services/{setup['service'].id}/follow-along"
        late = client.get(f"{url}?as_of=2025-06-09&overdue_only=true", headers=setup["staff"])
        assert [i["job_id"] for i in late.json["items"]] == [job["id"]]
        db_session.add(
            Contact(
                referral_id=setup["referral"].id,
                occurred_on=date(2025, 6, 5),
                with_whom="person",
                mode="in_person",
                setting="community",
                job_id=job["id"],
            )
        )
        db_session.flush()
        fine = client.get(f"{url}?as_of=2025-06-09", headers=setup["staff"]).json["items"]
        assert fine[0]["overdue"] is False and fine[0]["last_support_on"] == "2025-06-05"
        assert client.get(url, headers=setup["other_staff"]).status_code == 404


class TestBenefitsPlanningReminders:
    def test_start_without_planning_and_pay_change_remind_the_specialist(  # type: ignore[no-untyped-def]
        self, client, db_session, setup
    ):
        from sqlalchemy import select

        from app.notifications import Notification

        def reminders() -> int:
            return len(
                db_session.scalars(
                    select(Notification).where(Notification.kind == "ips.benefits_planning_due")
                ).all()
            )

        path = f"/v1/employment/referrals/{setup['referral'].id}/jobs"
        job = client.post(path, json=_job(), headers=setup["staff"])
        assert reminders() == 1
        client.patch(
            f"/v1/employment/jobs/{job.json['id']}",
            json={"hourly_pay": {"amount": 1400, "currency": "GBP"}},
            headers={**setup["staff"], "If-Match": job.headers["ETag"]},
        )
        assert reminders() == 2
        client.post(
            f"/v1/employment/referrals/{setup['referral'].id}/benefits-sessions",
            json={"held_on": "2025-06-01", "trigger": "before_job_start"},
            headers=setup["staff"],
        )
        client.post(path, json=_job(role="Second job"), headers=setup["staff"])
        assert reminders() == 2  # planning was done before this start
