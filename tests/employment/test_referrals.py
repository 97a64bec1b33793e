"""Joining IPS: referral sources, zero exclusion, the caseload limit, the life cycle,
contacts, appointments (with notifications) and who may see what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.notifications import Notification
from auth.models import Person
from employment import rules
from employment.models import CaseloadAssignment, Referral
from tests.builders import (
    bearer_for,
    build_admin,
    build_broker,
    build_person_user,
    build_provider_staff,
    build_representative,
)
from tests.employment.builders import build_referral, build_service, build_specialist

URL = "/v1/employment/referrals"


def _staff_of(session: Session, service):  # type: ignore[no-untyped-def]
    from budgets.providers.models import ProviderOrganisation

    organisation = session.get(ProviderOrganisation, service.provider_organisation_id)
    return build_provider_staff(session, organisation=organisation, membership_role="staff")


def _body(service_id: str, person_id: str, **overrides: object) -> dict:
    body = {
        "service_id": service_id,
        "person_id": person_id,
        "wants_paid_work": True,
        "in_work_at_referral": False,
    }
    body.update(overrides)
    return body


class TestJoining:
    def test_person_refers_themselves(self, client: FlaskClient, db_session: Session):
        service = build_service(db_session)
        person = build_person_user(db_session)
        response = client.post(
            URL,
            json=_body(service.id, person.person_id, care_plan_outcome_id="outcome-get-a-job"),
            headers=bearer_for(db_session, person),
        )
        assert response.status_code == 201, response.json
        assert response.json["source"] == "self"
        assert response.json["status"] == "received"
        assert response.json["care_plan_outcome_id"] == "outcome-get-a-job"

        again = client.post(
            URL, json=_body(service.id, person.person_id), headers=bearer_for(db_session, person)
        )
        assert again.status_code == 409

    def test_broker_refers_someone_on_their_caseload(self, client, db_session):
        service = build_service(db_session)
        broker = build_broker(db_session)
        person = build_person_user(db_session)
        db_session.get(Person, person.person_id).broker_id = broker.id
        response = client.post(
            URL, json=_body(service.id, person.person_id), headers=bearer_for(db_session, broker)
        )
        assert response.status_code == 201
        assert response.json["source"] == "broker"

    def test_broker_cannot_refer_someone_else(self, client, db_session):
        service = build_service(db_session)
        broker = build_broker(db_session)
        stranger = build_person_user(db_session)
        response = client.post(
            URL, json=_body(service.id, stranger.person_id), headers=bearer_for(db_session, broker)
        )
        assert response.status_code == 404

    def test_service_records_a_clinician_referral_with_the_team(self, client, db_session):
        service = build_service(db_session)
        staff = _staff_of(db_session, service)
        person = build_person_user(db_session)
        headers = bearer_for(db_session, staff)
        missing_team = client.post(URL, json=_body(service.id, person.person_id), headers=headers)
        assert missing_team.status_code == 422
        assert missing_team.json["code"] == "referrer-team-required"
        response = client.post(
            URL,
            json=_body(service.id, person.person_id, referrer_team="Leeds North CMHT"),
            headers=headers,
        )
        assert response.status_code == 201
        assert response.json["source"] == "clinician"
        assert response.json["referrer_team"] == "Leeds North CMHT"

    def test_validation_errors(self, client, db_session):
        person = build_person_user(db_session)
        response = client.post(
            URL,
            json={"service_id": "", "wants_paid_work": "maybe"},
            headers=bearer_for(db_session, person),
        )
        assert response.status_code == 422
        assert {"service_id", "wants_paid_work", "person_id", "in_work_at_referral"} <= set(
            response.json["errors"]
        )


class TestZeroExclusion:
    def test_not_wanting_paid_work_is_the_only_refusal(self, client, db_session):
        service = build_service(db_session)
        person = build_person_user(db_session)
        response = client.post(
            URL,
            json=_body(service.id, person.person_id, wants_paid_work=False),
            headers=bearer_for(db_session, person),
        )
        assert response.status_code == 422
        assert response.json["code"] == "not-seeking-paid-work"
        assert db_session.scalars(select(Referral)).first() is None

    @pytest.mark.parametrize(
        "field",
        [
            "exclusion_reason",
            "refusal_reason",
            "diagnosis",
            "substance_use",
            "housing_status",
            "benefits",
            "criminal_record",
            "not_ready",
        ],
    )
    def test_no_exclusion_reason_is_accepted_on_referral(self, client, db_session, field):
        service = build_service(db_session)
        person = build_person_user(db_session)
        response = client.post(
            URL,
            json=_body(service.id, person.person_id, **{field: "anything"}),
            headers=bearer_for(db_session, person),
        )
        assert response.status_code == 422
        assert field in response.json["errors"]
        assert db_session.scalars(select(Referral)).first() is None

    @pytest.mark.parametrize(
        "reason",
        ["diagnosis", "substance_use", "homeless", "on_benefits", "criminal_record", "not_ready"],
    )
    def test_discharge_cannot_give_an_excluded_ground(self, client, db_session, reason):
        service = build_service(db_session)
        staff = _staff_of(db_session, service)
        referral = build_referral(
            db_session, service=service, person_id=build_person_user(db_session).person_id
        )
        response = client.post(
            f"{URL}/{referral.id}/discharge",
            json={"discharged_on": "2025-04-02", "reason": reason},
            headers=bearer_for(db_session, staff),
        )
        assert response.status_code == 422
        assert "reason" in response.json["errors"]

    def test_closed_lists_name_no_excluded_ground(self):
        for reason in rules.CLOSURE_REASONS:
            assert not any(ground in reason for ground in rules.EXCLUDED_GROUNDS)

    def test_no_column_on_joining_or_leaving_can_hold_an_exclusion_reason(self):
        from employment.models import CaseloadAssignment, Referral

        columns = {
            column.name
            for model in (Referral, CaseloadAssignment)
            for column in model.__table__.columns
        }
        for ground in (*rules.EXCLUDED_GROUNDS, "refus", "exclu"):
            assert not [c for c in columns if ground in c], ground


class TestCaseloadLimit:
    def test_limit_per_fte_refuses_then_override_is_recorded(self, client, db_session):
        service = build_service(db_session, caseload_limit_per_fte=20)
        specialist = build_specialist(db_session, service=service, fte="0.10")  # limit 2
        staff = _staff_of(db_session, service)
        headers = bearer_for(db_session, staff)
        referrals = [
            build_referral(
                db_session, service=service, person_id=build_person_user(db_session).person_id
            )
            for _ in range(3)
        ]
        body = {"specialist_id": specialist.id, "accepted_on": "2025-04-02"}
        for referral in referrals[:2]:
            ok = client.post(f"{URL}/{referral.id}/accept", json=body, headers=headers)
            assert ok.status_code == 200, ok.json
            assert ok.json["status"] == "accepted"
        refused = client.post(f"{URL}/{referrals[2].id}/accept", json=body, headers=headers)
        assert refused.status_code == 422
        assert refused.json["code"] == "caseload-limit"
        assert db_session.get(Referral, referrals[2].id).status == "received"

        overridden = client.post(
            f"{URL}/{referrals[2].id}/accept",
            json={**body, "caseload_override_reason": "Cover while a colleague is on leave"},
            headers=headers,
        )
        assert overridden.status_code == 200
        assignment = db_session.scalars(
            select(CaseloadAssignment).where(CaseloadAssignment.referral_id == referrals[2].id)
        ).one()
        assert assignment.over_limit is True
        assert assignment.caseload_before == 2 and assignment.caseload_limit == 2
        assert assignment.override_reason == "Cover while a colleague is on leave"

        shown = client.get(f"/v1/employment/specialists/{specialist.id}", headers=headers).json[
            "caseload"
        ]
        assert shown == {"open": 3, "active": 0, "limit": 2, "over_limit": True}

    def test_configured_limit_is_used(self, client, db_session):
        service = build_service(db_session, caseload_limit_per_fte=1)
        specialist = build_specialist(db_session, service=service, fte="1.00")
        staff = _staff_of(db_session, service)
        headers = bearer_for(db_session, staff)
        first, second = (
            build_referral(
                db_session, service=service, person_id=build_person_user(db_session).person_id
            )
            for _ in range(2)
        )
        body = {"specialist_id": specialist.id, "accepted_on": "2025-04-02"}
        assert (
            client.post(f"{URL}/{first.id}/accept", json=body, headers=headers).status_code == 200
        )
        assert (
            client.post(f"{URL}/{second.id}/accept", json=body, headers=headers).status_code == 422
        )

    def test_specialist_of_another_service_is_refused(self, client, db_session):
        service = build_service(db_session)
        elsewhere = build_specialist(db_session, service=build_service(db_session))
        staff = _staff_of(db_session, service)
        referral = build_referral(
            db_session, service=service, person_id=build_person_user(db_session).person_id
        )
        response = client.post(
            f"{URL}/{referral.id}/accept",
            json={"specialist_id": elsewhere.id, "accepted_on": "2025-04-02"},
            headers=bearer_for(db_session, staff),
        )
        assert response.status_code == 422
        assert response.json["code"] == "specialist-not-in-service"


class TestLifeCycle:
    def test_received_accepted_first_contact_active_discharged(self, client, db_session):
        service = build_service(db_session)
        specialist = build_specialist(db_session, service=service)
        staff = _staff_of(db_session, service)
        person = build_person_user(db_session)
        representative = build_representative(
            db_session, person=db_session.get(Person, person.person_id)
        )
        headers = bearer_for(db_session, staff)
        referral = build_referral(db_session, service=service, person_id=person.person_id)
        base = f"{URL}/{referral.id}"

        early = client.post(f"{base}/activate", json={"active_on": "2025-04-03"}, headers=headers)
        assert early.status_code == 409
        contact_too_soon = client.post(
            f"{base}/contacts",
            json={"occurred_on": "2025-04-03", "with_whom": "person", "mode": "remote"},
            headers=headers,
        )
        assert contact_too_soon.status_code == 409

        client.post(
            f"{base}/accept",
            json={"specialist_id": specialist.id, "accepted_on": "2025-04-02"},
            headers=headers,
        )
        jobcentre = client.post(
            f"{base}/contacts",
            json={"occurred_on": "2025-04-03", "with_whom": "jobcentre", "mode": "remote"},
            headers=headers,
        )
        assert jobcentre.status_code == 201
        assert client.get(base, headers=headers).json["status"] == "accepted"
        first = client.post(
            f"{base}/contacts",
            json={
                "occurred_on": "2025-04-04",
                "with_whom": "person",
                "mode": "in_person",
                "setting": "community",
            },
            headers={**headers, "Idempotency-Key": "contact-1"},
        )
        assert first.status_code == 201
        assert first.json["specialist_id"] == specialist.id or first.json["specialist_id"]
        state = client.get(base, headers=headers).json
        assert state["status"] == "first_contact"
        assert state["first_contact_on"] == "2025-04-04"

        active = client.post(f"{base}/activate", json={"active_on": "2025-04-10"}, headers=headers)
        assert active.status_code == 200 and active.json["status"] == "active"

        starts_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        booked = client.post(
            f"{base}/appointments",
            json={"starts_at": starts_at.isoformat(), "mode": "in_person", "location": "Library"},
            headers=headers,
        )
        assert booked.status_code == 201, booked.json
        told = db_session.scalars(
            select(Notification.user_id).where(Notification.kind == "ips.appointment_booked")
        ).all()
        assert set(told) == {person.id, representative.id}
        accepted = db_session.scalars(
            select(Notification.user_id).where(Notification.kind == "ips.referral_accepted")
        ).all()
        assert set(accepted) == {person.id, representative.id}
        cancelled = client.post(
            f"/v1/employment/appointments/{booked.json['id']}/cancel", headers=headers
        )
        assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"

        done = client.post(
            f"{base}/discharge",
            json={"discharged_on": "2025-09-01", "reason": "in_work_no_longer_needs_support"},
            headers=headers,
        )
        assert done.status_code == 200
        assert done.json["status"] == "discharged"
        twice = client.post(
            f"{base}/discharge",
            json={"discharged_on": "2025-09-01", "reason": "person_chose_to_leave"},
            headers=headers,
        )
        assert twice.status_code == 409

    def test_naive_appointment_time_and_past_contact_rules(self, client, db_session):
        service = build_service(db_session)
        staff = _staff_of(db_session, service)
        referral = build_referral(
            db_session,
            service=service,
            person_id=build_person_user(db_session).person_id,
            status="accepted",
            accepted_on=date(2025, 4, 2),
        )
        headers = bearer_for(db_session, staff)
        naive = client.post(
            f"{URL}/{referral.id}/appointments",
            json={"starts_at": "2030-01-01T10:00:00", "mode": "remote"},
            headers=headers,
        )
        assert naive.status_code == 422
        before = client.post(
            f"{URL}/{referral.id}/contacts",
            json={"occurred_on": "2025-04-01", "with_whom": "person", "mode": "remote"},
            headers=headers,
        )
        assert before.status_code == 422
        assert before.json["code"] == "date-before-acceptance"


class TestAccess:
    def test_who_sees_a_referral(self, client, db_session):
        service = build_service(db_session)
        staff = _staff_of(db_session, service)
        broker = build_broker(db_session)
        person = build_person_user(db_session, broker_id=None)
        db_session.get(Person, person.person_id).broker_id = broker.id
        referral = build_referral(db_session, service=service, person_id=person.person_id)
        path = f"{URL}/{referral.id}"

        for user in (person, broker, staff):
            assert client.get(path, headers=bearer_for(db_session, user)).status_code == 200
        other_person = build_person_user(db_session)
        other_provider = build_provider_staff(db_session)
        other_broker = build_broker(db_session)
        admin = build_admin(
            db_session, commissioner_id=db_session.get(Person, person.person_id).commissioner_id
        )
        for user in (other_person, other_provider, other_broker, admin):
            assert client.get(path, headers=bearer_for(db_session, user)).status_code == 404
            listed = client.get(URL, headers=bearer_for(db_session, user)).json["items"]
            assert referral.id not in [r["id"] for r in listed]

        mine = client.get(URL, headers=bearer_for(db_session, person)).json["items"]
        assert [r["id"] for r in mine] == [referral.id]
        audited = db_session.scalars(
            select(AuditEntry).where(
                AuditEntry.record_id == referral.id, AuditEntry.action == "ips.referral.read"
            )
        ).all()
        assert len(audited) == 3

    def test_person_cannot_manage_their_referral(self, client, db_session):
        service = build_service(db_session)
        person = build_person_user(db_session)
        referral = build_referral(db_session, service=service, person_id=person.person_id)
        response = client.post(
            f"{URL}/{referral.id}/discharge",
            json={"discharged_on": "2025-04-02", "reason": "person_chose_to_leave"},
            headers=bearer_for(db_session, person),
        )
        assert response.status_code == 403

    def test_other_provider_gets_404_on_actions(self, client, db_session):
        service = build_service(db_session)
        referral = build_referral(
            db_session, service=service, person_id=build_person_user(db_session).person_id
        )
        other = build_provider_staff(db_session)
        headers = bearer_for(db_session, other)
        for action, body in (
            ("discharge", {"discharged_on": "2025-04-02", "reason": "lost_contact"}),
            ("activate", {"active_on": "2025-04-02"}),
            ("contacts", {"occurred_on": "2025-04-02", "with_whom": "person", "mode": "remote"}),
        ):
            response = client.post(f"{URL}/{referral.id}/{action}", json=body, headers=headers)
            assert response.status_code == 404, action
        assert client.get(f"{URL}/{referral.id}/contacts", headers=headers).status_code == 404


class TestWithdrawing:
    def test_person_leaves_and_can_rejoin(self, client, db_session):  # type: ignore[no-untyped-def]
        service = build_service(db_session)
        specialist = build_specialist(db_session, service=service)
        person = build_person_user(db_session)
        referral = build_referral(
            db_session,
            service=service,
            person_id=person.person_id,
            status="accepted",
            accepted_on=date(2025, 4, 2),
            specialist_id=specialist.id,
        )
        headers = bearer_for(db_session, person)
        left = client.post(f"{URL}/{referral.id}/withdraw", headers=headers)
        assert left.status_code == 200
        assert left.json["status"] == "discharged"
        assert left.json["closure_reason"] == "person_chose_to_leave"
        told = db_session.scalars(
            select(Notification.user_id).where(Notification.kind == "ips.referral_withdrawn")
        ).all()
        assert told == [specialist.user_id]
        assert client.post(f"{URL}/{referral.id}/withdraw", headers=headers).status_code == 409
        rejoin = client.post(URL, json=_body(service.id, person.person_id), headers=headers)
        assert rejoin.status_code == 201

    def test_only_the_person_withdraws(self, client, db_session):  # type: ignore[no-untyped-def]
        service = build_service(db_session)
        broker = build_broker(db_session)
        person = build_person_user(db_session)
        db_session.get(Person, person.person_id).broker_id = broker.id
        referral = build_referral(db_session, service=service, person_id=person.person_id)
        path = f"{URL}/{referral.id}/withdraw"
        assert client.post(path, headers=bearer_for(db_session, broker)).status_code == 403
        other = build_person_user(db_session)
        assert client.post(path, headers=bearer_for(db_session, other)).status_code == 404
        staff = _staff_of(db_session, service)
        assert client.post(path, headers=bearer_for(db_session, staff)).status_code == 403
