"""The demo dataset: an IPS service with specialists, people at each stage and a job start,
so the metrics show real numbers; seeding twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.demo import seed_demo
from auth.models import User
from employment.models import IpsService, Job, Referral
from tests.builders import bearer_for


def test_demo_service_shows_real_metrics(client: FlaskClient, db_session: Session) -> None:
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    seed_demo(db_session, base_url="http://127.0.0.1:5000")
    services = db_session.scalars(select(IpsService)).all()
    assert len(services) == 1
    statuses = set(db_session.scalars(select(Referral.status)))
    assert statuses == {"received", "accepted", "first_contact", "active", "discharged"}
    assert db_session.scalar(select(func.count()).select_from(Job)) >= 2

    staff = db_session.scalars(select(User).where(User.email == "provider@demo.example")).one()
    today = utcnow().date()
    start = today - timedelta(days=364)
    response = client.get(
        f"/v1/employment/services/{services[0].id}/metrics?period_start={start}&period_end={today}",
        headers=bearer_for(db_session, staff),
    )
    assert response.status_code == 200, response.json
    metrics = response.json
    assert metrics["access"]["in_period"] >= 4
    assert metrics["job_starts"]["all"] >= 2
    assert metrics["caseload"]["active_people"] >= 1
    assert metrics["employer_contacts"]["face_to_face"] > 0

    priya = db_session.scalars(select(User).where(User.email == "person@demo.example")).one()
    journey = client.get(
        f"/v1/employment/people/{priya.person_id}/journey", headers=bearer_for(db_session, priya)
    )
    episode = journey.json["episodes"][0]
    assert episode["next_appointment"] is not None
    assert episode["jobs"][0]["is_competitive"] is True
