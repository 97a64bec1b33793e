"""Demo IPS data for `make run`: a service run by Bright Days Care for the West Yorkshire
ICB, two employment specialists, people at every stage of the journey (Priya, the demo
person, has started a job), employers, contacts and outcome rules, so the metrics endpoint
shows real numbers. Idempotent: looked up by natural keys, created only when missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.notifications import notify
from auth.models import Commissioner, Person, ProviderMembership, User, UserRole
from auth.roles import Role
from budgets.providers.models import ProviderOrganisation
from employment.models import (
    Appointment,
    BenefitsPlanningSession,
    CaseloadAssignment,
    Contact,
    DisclosureDiscussion,
    Employer,
    EmployerContact,
    EmployerContactPerson,
    EmploymentSpecialist,
    IpsService,
    Job,
    OutcomeRule,
    Referral,
    ServiceArea,
    VocationalProfile,
)
from employment.rates import minimum_wage_pence
from employment.trail import person_user_ids

SERVICE_NAME = "Leeds IPS Employment Service"

# (given, family, born, stage, specialist index, days since accepted, in work at referral)
DEMO_PEOPLE = [
    ("Tom", "Fletcher", date(1990, 2, 1), "received", None, None, False),
    ("Aisha", "Khan", date(1995, 7, 9), "accepted", 1, 10, False),
    ("Dan", "Evans", date(1983, 11, 30), "first_contact", 0, 25, False),
    ("Grace", "Lee", date(1979, 5, 5), "active", 1, 200, False),
    ("Mo", "Ali", date(2001, 1, 20), "discharged", 0, 150, True),
]


def _one(session: Session, model: type, **lookup: Any) -> Any:
    return session.scalars(select(model).filter_by(**lookup)).first()


def _specialist_user(session: Session, organisation: ProviderOrganisation) -> User:
    user = _one(session, User, email="ips.specialist@demo.example")
    if user is None:
        user = User(email="ips.specialist@demo.example", display_name="Jo Patel")
        user.role_grants.append(UserRole(role=str(Role.PROVIDER_STAFF)))
        session.add(user)
        session.flush()
        session.add(
            ProviderMembership(
                user_id=user.id, organisation_id=organisation.id, membership_role="staff"
            )
        )
    return user


def _job(session: Session, referral: Referral, person: Person, **values: Any) -> Job:
    job = Job(referral_id=referral.id, **values)
    job.minimum_wage_pence = minimum_wage_pence(
        session, on=job.start_date, date_of_birth=person.date_of_birth
    )
    job.is_competitive = bool(
        job.minimum_wage_pence and job.hourly_pay_pence >= job.minimum_wage_pence
    )
    session.add(job)
    session.flush()
    return job


def _referral(
    session: Session,
    service: IpsService,
    person: Person,
    stage: str,
    specialist: EmploymentSpecialist | None,
    accepted_days_ago: int | None,
    in_work: bool,
    today: date,
    source: str = "clinician",
) -> Referral:
    accepted = today - timedelta(days=accepted_days_ago) if accepted_days_ago else None
    referral = Referral(
        service_id=service.id,
        person_id=person.id,
        source=source,
        referrer_team="Leeds North CMHT" if source == "clinician" else None,
        in_work_at_referral=in_work,
        status=stage,
        received_on=(accepted or today) - timedelta(days=3),
        accepted_on=accepted,
        specialist_id=specialist.id if specialist and accepted else None,
    )
    if accepted and stage in ("first_contact", "active", "discharged"):
        referral.first_contact_on = accepted + timedelta(days=3)
    if accepted and stage in ("active", "discharged"):
        referral.active_on = accepted + timedelta(days=10)
    if stage == "discharged":
        referral.discharged_on = today - timedelta(days=20)
        referral.closure_reason = "person_chose_to_leave"
    session.add(referral)
    session.flush()
    if specialist and accepted:
        session.add(
            CaseloadAssignment(
                referral_id=referral.id,
                specialist_id=specialist.id,
                assigned_at=datetime.combine(accepted, time(9), tzinfo=UTC),
                caseload_before=0,
                caseload_limit=int(service.caseload_limit_per_fte * specialist.fte),
            )
        )
    if referral.first_contact_on:
        for offset in range(0, (today - referral.first_contact_on).days, 14):
            day = referral.first_contact_on + timedelta(days=offset)
            if referral.discharged_on and day >= referral.discharged_on:
                break
            session.add(
                Contact(
                    referral_id=referral.id,
                    specialist_id=referral.specialist_id,
                    occurred_on=day,
                    with_whom="person",
                    mode="in_person",
                    setting="community" if offset % 28 == 0 else "office",
                )
            )
    return referral


def seed_employment(session: Session) -> None:
    """Create the demo IPS service and its people, unless they already exist."""
    organisation = _one(session, ProviderOrganisation, name="Bright Days Care")
    icb = _one(session, Commissioner, ods_code="QWO")
    owner = _one(session, User, email="provider@demo.example")
    priya = _one(session, Person, nhs_number="9434765919")
    if None in (organisation, icb, owner, priya):
        return
    if _one(session, IpsService, name=SERVICE_NAME) is not None:
        return
    today = utcnow().date()
    service = IpsService(
        provider_organisation_id=organisation.id,
        commissioner_id=icb.id,
        name=SERVICE_NAME,
        areas=[ServiceArea(postcode_district=d) for d in ("LS11", "LS2", "LS6", "LS7")],
        integrated_teams=["Leeds North CMHT", "Leeds South CMHT"],
        contact_email="ips@brightdays.example",
        contact_phone="0113 496 0000",
    )
    session.add(service)
    session.flush()
    sam = EmploymentSpecialist(service_id=service.id, user_id=owner.id, fte=Decimal("1.00"))
    jo_user = _specialist_user(session, organisation)
    jo = EmploymentSpecialist(service_id=service.id, user_id=jo_user.id, fte=Decimal("0.60"))
    session.add_all([sam, jo])
    session.flush()
    specialists = [sam, jo]

    employers = [
        Employer(service_id=service.id, name=name, sector=sector)
        for name, sector in (
            ("Kirkstall Bakery", "Food"),
            ("Headingley Books", "Retail"),
            ("Aire Logistics", "Warehousing"),
        )
    ]
    session.add_all(employers)
    session.flush()

    # Priya: self-referral, active, has started a competitive job.
    referral = _referral(session, service, priya, "active", sam, 60, False, today, source="self")
    session.add_all(
        [
            VocationalProfile(
                referral_id=referral.id,
                job_preferences={
                    "types_of_work": ["bakery", "retail"],
                    "hours_per_week_min": 12,
                    "hours_per_week_max": 20,
                    "places": ["Headingley", "Kirkstall"],
                    "travel": "Bus or walk, up to 30 minutes",
                },
                strengths=["reliable", "friendly with customers", "good at baking"],
                work_history=[
                    {
                        "employer": "Corner Cafe",
                        "role": "Kitchen assistant",
                        "started_on": "2012-05-01",
                        "ended_on": "2015-09-30",
                    }
                ],
                education=[
                    {"what": "Level 2 Food Hygiene", "where": "Leeds City College", "year": 2013}
                ],
            ),
            DisclosureDiscussion(
                referral_id=referral.id,
                discussed_on=today - timedelta(days=50),
                decision="undecided",
            ),
            DisclosureDiscussion(
                referral_id=referral.id,
                discussed_on=today - timedelta(days=30),
                decision="partial",
                approach="Mention needing regular breaks",
            ),
            BenefitsPlanningSession(
                referral_id=referral.id,
                held_on=today - timedelta(days=28),
                trigger="before_job_start",
            ),
        ]
    )
    contact = EmployerContact(
        service_id=service.id,
        specialist_id=sam.id,
        employer_id=employers[0].id,
        occurred_on=today - timedelta(days=40),
        face_to_face=True,
        purpose="job_development",
        people=[EmployerContactPerson(referral_id=referral.id)],
    )
    session.add(contact)
    job = _job(
        session,
        referral,
        priya,
        employer_id=employers[0].id,
        employer_name=employers[0].name,
        role="Bakery assistant",
        start_date=today - timedelta(days=21),
        hours_per_week=Decimal(16),
        hourly_pay_pence=1350,
        four_paid_hours_on=today - timedelta(days=20),
    )
    session.add(
        Contact(
            referral_id=referral.id,
            specialist_id=sam.id,
            occurred_on=today - timedelta(days=14),
            with_whom="person",
            mode="in_person",
            setting="community",
            job_id=job.id,
        )
    )
    appointment = Appointment(
        referral_id=referral.id,
        specialist_id=sam.id,
        mode="in_person",
        location="Headingley Library",
        starts_at=datetime.combine(today + timedelta(days=3), time(10, 30), tzinfo=UTC),
    )
    session.add(appointment)
    session.flush()
    notify(
        session,
        user_ids=person_user_ids(session, priya.id),
        kind="ips.appointment_booked",
        title="New employment support appointment",
        body=f"{appointment.starts_at:%A %d %B at %H:%M} UTC, in person.",
        record_type="ips_appointment",
        record_id=appointment.id,
    )

    for given, family, born, stage, index, days, in_work in DEMO_PEOPLE:
        person = _one(session, Person, given_name=given, family_name=family, date_of_birth=born)
        if person is None:
            person = Person(
                given_name=given,
                family_name=family,
                date_of_birth=born,
                postcode="LS6 1AA",
                commissioner_id=icb.id,
                broker_id=priya.broker_id,
            )
            session.add(person)
            session.flush()
        specialist = specialists[index] if index is not None else None
        episode = _referral(session, service, person, stage, specialist, days, in_work, today)
        if stage == "active" and episode.accepted_on is not None:
            session.add(
                EmployerContact(
                    service_id=service.id,
                    specialist_id=jo.id,
                    employer_id=employers[2].id,
                    occurred_on=episode.accepted_on + timedelta(days=12),
                    face_to_face=True,
                    purpose="job_development",
                    people=[EmployerContactPerson(referral_id=episode.id)],
                )
            )
            _job(
                session,
                episode,
                person,
                employer_id=employers[2].id,
                employer_name=employers[2].name,
                role="Warehouse operative",
                start_date=today - timedelta(days=120),
                hours_per_week=Decimal(30),
                hourly_pay_pence=1400,
                four_paid_hours_on=today - timedelta(days=120),
            )
    for offset in range(0, 28, 3):
        session.add(
            EmployerContact(
                service_id=service.id,
                specialist_id=specialists[offset % 2].id,
                employer_id=employers[offset % 3].id,
                occurred_on=today - timedelta(days=offset),
                face_to_face=offset % 6 != 3,
                purpose="job_development",
            )
        )
    session.add_all(
        [
            OutcomeRule(
                service_id=service.id,
                name="16h for 26 weeks",
                min_hours_per_week=Decimal(16),
                weeks_required=26,
                within_weeks=26,
            ),
            OutcomeRule(
                service_id=service.id,
                name="7h for 13 of 16 weeks",
                min_hours_per_week=Decimal(7),
                weeks_required=13,
                within_weeks=16,
            ),
        ]
    )
    session.flush()
