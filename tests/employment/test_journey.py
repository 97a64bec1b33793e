"""The person's own IPS journey: specialist, next appointment, profile, job search, jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import Person
from employment.models import (
    Appointment,
    Employer,
    EmployerContact,
    EmployerContactPerson,
    Job,
    VocationalProfile,
)
from tests.builders import bearer_for, build_broker, build_person_user, build_provider_staff
from tests.employment.builders import build_referral, build_service, build_specialist


def test_person_sees_their_journey(client: FlaskClient, db_session: Session) -> None:
    service = build_service(db_session)
    specialist = build_specialist(db_session, service=service)
    person = build_person_user(db_session)
    referral = build_referral(
        db_session,
        service=service,
        person_id=person.person_id,
        status="active",
        accepted_on=date(2025, 4, 1),
        specialist_id=specialist.id,
    )
    soon = datetime.now(UTC) + timedelta(days=2)
    db_session.add_all(
        [
            Appointment(referral_id=referral.id, starts_at=soon + timedelta(days=5), mode="remote"),
            Appointment(referral_id=referral.id, starts_at=soon, mode="in_person", location="Cafe"),
            Appointment(
                referral_id=referral.id,
                starts_at=soon - timedelta(days=1),
                mode="remote",
                status="cancelled",
            ),
            VocationalProfile(
                referral_id=referral.id, job_preferences={"types_of_work": ["retail"]}
            ),
            Job(
                referral_id=referral.id,
                employer_name="Bakery",
                role="Assistant",
                start_date=date(2025, 6, 2),
                hours_per_week=Decimal(16),
                hourly_pay_pence=1300,
                is_competitive=True,
                minimum_wage_pence=1221,
            ),
        ]
    )
    employer = Employer(service_id=service.id, name="Bakery")
    db_session.add(employer)
    db_session.flush()
    db_session.add(
        EmployerContact(
            service_id=service.id,
            specialist_id=specialist.id,
            employer_id=employer.id,
            occurred_on=date(2025, 5, 1),
            face_to_face=True,
            purpose="job_development",
            people=[EmployerContactPerson(referral_id=referral.id)],
        )
    )
    db_session.flush()

    url = f"/v1/employment/people/{person.person_id}/journey"
    response = client.get(url, headers=bearer_for(db_session, person))
    assert response.status_code == 200, response.json
    episode = response.json["episodes"][0]
    assert episode["specialist"]["id"] == specialist.id
    assert episode["next_appointment"]["location"] == "Cafe"
    assert episode["profile"]["job_preferences"]["types_of_work"] == ["retail"]
    assert episode["job_search"]["employer_contacts"] == 1
    assert episode["job_search"]["recent"][0]["employer_name"] == "Bakery"
    assert episode["jobs"][0]["hourly_pay"] == {"amount": 1300, "currency": "GBP"}

    broker = build_broker(db_session)
    db_session.get(Person, person.person_id).broker_id = broker.id
    assert client.get(url, headers=bearer_for(db_session, broker)).status_code == 200
    for outsider in (
        build_person_user(db_session),
        build_provider_staff(db_session),
        build_broker(db_session),
    ):
        assert client.get(url, headers=bearer_for(db_session, outsider)).status_code == 404


def test_someone_not_yet_referred_sees_an_empty_journey(client, db_session) -> None:  # type: ignore[no-untyped-def]
    person = build_person_user(db_session)
    response = client.get(
        f"/v1/employment/people/{person.person_id}/journey", headers=bearer_for(db_session, person)
    )
    assert response.status_code == 200
    assert response.json["episodes"] == []
