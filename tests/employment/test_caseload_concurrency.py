"""The caseload limit holds under concurrent assignments: with room for one more person,
two simultaneous acceptances onto the same specialist let exactly one through."""

from __future__ import annotations

import threading
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import get_db
from employment.models import CaseloadAssignment
from tests.builders import bearer_for, build_person_user, build_provider_staff
from tests.employment.builders import build_referral, build_service, build_specialist


def test_two_simultaneous_acceptances_cannot_both_pass_the_limit(committed_app: Flask) -> None:
    with committed_app.app_context():
        session: Session = get_db(committed_app).session_factory()
        service = build_service(session, caseload_limit_per_fte=1)
        specialist = build_specialist(session, service=service, fte="1.00")
        from budgets.providers.models import ProviderOrganisation

        organisation = session.get(ProviderOrganisation, service.provider_organisation_id)
        headers = bearer_for(session, build_provider_staff(session, organisation=organisation))
        referrals = [
            build_referral(
                session,
                service=service,
                person_id=build_person_user(session).person_id,
                received_on=date(2025, 4, 1),
            ).id
            for _ in range(2)
        ]
        specialist_id = specialist.id
        session.commit()
        session.close()

    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def accept(referral_id: str) -> None:
        client = committed_app.test_client()
        barrier.wait()
        response = client.post(
            f"/v1/employment/referrals/{referral_id}/accept",
            json={"specialist_id": specialist_id, "accepted_on": "2025-04-02"},
            headers=headers,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=accept, args=(r,)) for r in referrals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 422]
    with committed_app.app_context():
        session = get_db(committed_app).session_factory()
        assigned = session.scalars(
            select(CaseloadAssignment).where(CaseloadAssignment.specialist_id == specialist_id)
        ).all()
        assert len(assigned) == 1
        session.close()
