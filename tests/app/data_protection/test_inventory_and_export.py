"""The data inventory covers every table, and the subject access export covers every
personal table in it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.data_protection.inventory import HOLDINGS, Category, holdings_by_table
from app.data_protection.models import Pseudonymisation
from app.db import new_id, utcnow
from app.model_registry import metadata
from app.notifications import notify
from auth.actor import Actor
from auth.models import Invitation, PasswordReset, Person, ProviderMembership, Representation
from budgets.bookings.models import Claim
from budgets.funding.models import BudgetChange
from budgets.payments.models import Payment, PaymentRefund
from budgets.plans.models import PlanDecision
from employment import models as ips
from mobile_contract.notifications.models import DeviceToken, PushDelivery
from tests.app.test_errors import assert_problem
from tests.budgets.booking_builders import build_booking, build_claim
from tests.budgets.builders import build_approved_line
from tests.builders import (
    bearer_for,
    build_admin,
    build_person_user,
    build_provider,
    build_user,
)
from tests.employment.builders import build_referral, build_service, build_specialist


def test_every_table_is_in_the_data_inventory() -> None:
    missing = sorted(set(metadata.tables) - set(holdings_by_table()))
    assert not missing, f"add these tables to app/data_protection/inventory.py: {missing}"
    unknown = sorted(set(holdings_by_table()) - set(metadata.tables))
    assert not unknown, f"the inventory names tables that do not exist: {unknown}"


def test_personal_holdings_say_how_to_find_the_subjects_rows() -> None:
    for holding in HOLDINGS:
        if holding.category is Category.PERSONAL:
            assert holding.finder is not None, holding.table


def _seed_one_row_of_everything_personal(session: Session):  # type: ignore[no-untyped-def]
    """A person with a row in every personal table (extend when a personal table is added)."""
    user = build_person_user(session, nhs_number="9434765919")
    representative = build_user(session, roles=("representative",))
    session.add(
        Representation(
            representative_id=representative.id,
            person_id=user.person_id,
            relationship_to_person="nominee",
        )
    )
    session.add(
        ProviderMembership(
            user_id=user.id, organisation_id=build_provider(session).id, membership_role="staff"
        )
    )
    (note,) = notify(
        session, user_ids=[user.id], kind="plan.decided", title="Your plan was approved"
    )
    session.add(DeviceToken(user_id=user.id, platform="android", token=f"fcm-{new_id()}"))
    session.flush()
    session.add(PushDelivery(notification_id=note.id, devices=1))
    person = session.get(Person, user.person_id)
    line = build_approved_line(session, person=person)
    budget_id = line.plan.budget_id
    session.add(
        BudgetChange(
            budget_id=budget_id,
            kind="increase",
            amount_pence=100,
            reason="More hours",
            effective_on=date(2026, 5, 1),
        )
    )
    session.add(PlanDecision(plan_id=line.plan_id, kind="approved"))
    claim = build_claim(session, booking=build_booking(session, line=line, units=1))
    session.add(Pseudonymisation(person_id=user.person_id, rule="test"))
    in_an_hour = utcnow() + timedelta(hours=1)
    session.add(
        Invitation(
            token_hash=new_id(),
            email=user.email,
            display_name="Invited",
            role="person",
            invited_by_id=representative.id,
            person_id=user.person_id,
            expires_at=in_an_hour,
        )
    )
    session.add(PasswordReset(token_hash=new_id(), user_id=user.id, expires_at=in_an_hour))
    _seed_employment_support(session, person_id=user.person_id)
    _seed_payment(session, claim=claim)
    record_audit(
        session,
        actor=Actor(user_id=representative.id, client_id="test-app"),
        action="read",
        record_type="person",
        record_id=user.person_id,
        subject_person_id=user.person_id,
    )
    session.flush()
    return user


def _seed_payment(session: Session, *, claim: Claim) -> None:
    payment = Payment(
        claim_id=claim.id,
        booking_id=claim.booking_id,
        organisation_id=claim.organisation_id,
        plan_line_id=claim.plan_line_id,
        budget_id=claim.budget_id,
        person_id=claim.person_id,
        amount_pence=claim.amount_pence,
        status="paid",
        idempotency_key=f"payment-{new_id()}",
    )
    session.add(payment)
    session.flush()
    session.add(
        PaymentRefund(
            payment_id=payment.id,
            amount_pence=500,
            reason="Session cancelled",
            status="reversed",
            idempotency_key=f"refund-{new_id()}",
        )
    )
    session.flush()


def _seed_employment_support(session: Session, *, person_id: str) -> None:
    service = build_service(session)
    specialist = build_specialist(session, service=service)
    referral = build_referral(session, service=service, person_id=person_id)
    employer = ips.Employer(service_id=service.id, name="Leeds Library")
    session.add(employer)
    session.flush()
    contact = ips.EmployerContact(
        service_id=service.id,
        specialist_id=specialist.id,
        employer_id=employer.id,
        occurred_on=date(2025, 5, 1),
        face_to_face=True,
        purpose="job_development",
    )
    session.add(contact)
    session.flush()
    session.add_all(
        [
            ips.CaseloadAssignment(
                referral_id=referral.id,
                specialist_id=specialist.id,
                assigned_at=utcnow(),
                caseload_before=0,
                caseload_limit=20,
            ),
            ips.VocationalProfile(referral_id=referral.id),
            ips.DisclosureDiscussion(
                referral_id=referral.id, discussed_on=date(2025, 4, 10), decision="partial"
            ),
            ips.BenefitsPlanningSession(
                referral_id=referral.id, held_on=date(2025, 4, 12), trigger="job_start"
            ),
            ips.Contact(
                referral_id=referral.id,
                occurred_on=date(2025, 4, 2),
                with_whom="person",
                mode="in_person",
            ),
            ips.Appointment(referral_id=referral.id, starts_at=utcnow(), mode="in_person"),
            ips.EmployerContactPerson(employer_contact_id=contact.id, referral_id=referral.id),
            ips.Job(
                referral_id=referral.id,
                employer_name="Leeds Library",
                role="Assistant",
                start_date=date(2025, 6, 1),
                hours_per_week=Decimal("16"),
                hourly_pay_pence=1221,
                is_competitive=True,
            ),
        ]
    )
    session.flush()


def test_export_contains_a_row_from_every_personal_table(
    client: FlaskClient, db_session: Session
) -> None:
    user = _seed_one_row_of_everything_personal(db_session)
    response = client.get("/v1/me/export", headers=bearer_for(db_session, user))
    assert response.status_code == 200, response.get_json()
    sections = response.get_json()["sections"]
    for holding in HOLDINGS:
        if holding.category is Category.PERSONAL:
            name = holding.export_name or holding.table
            assert sections.get(name), f"the export has no {name} (table {holding.table})"
    assert sections["profile"][0]["nhs_number"] == "9434765919"
    ledger_csv = response.get_json()["files"]["ledger.csv"]
    assert "amount_pence" in ledger_csv.splitlines()[0].split(",")
    assert len(ledger_csv.splitlines()) == len(sections["ledger"]) + 1


def test_export_never_contains_secrets_or_other_peoples_data(
    client: FlaskClient, db_session: Session
) -> None:
    user = _seed_one_row_of_everything_personal(db_session)
    other = _seed_one_row_of_everything_personal_other(db_session)
    text = client.get("/v1/me/export", headers=bearer_for(db_session, user)).get_data(as_text=True)
    assert "password_hash" not in text
    assert "access_token_hash" not in text
    assert other.id not in text
    assert other.person_id not in text


def _seed_one_row_of_everything_personal_other(session: Session):  # type: ignore[no-untyped-def]
    other = build_person_user(session)
    notify(session, user_ids=[other.id], kind="plan.decided", title="Someone else's")
    session.flush()
    return other


def test_the_export_itself_is_audited(client: FlaskClient, db_session: Session) -> None:
    user = build_person_user(db_session)
    client.get("/v1/me/export", headers=bearer_for(db_session, user))
    trail = client.get("/v1/me/audit-trail", headers=bearer_for(db_session, user)).get_json()
    assert [e["action"] for e in trail["items"]] == ["export"]


def test_an_admin_exports_a_person_of_their_commissioner_only(
    client: FlaskClient, db_session: Session
) -> None:
    user = build_person_user(db_session)
    own_admin = build_admin(db_session, commissioner_id=_commissioner_of(db_session, user))
    other_admin = build_admin(db_session)
    path = f"/v1/people/{user.person_id}/export"
    ok = client.get(path, headers=bearer_for(db_session, own_admin))
    assert ok.status_code == 200
    assert ok.get_json()["person_id"] == user.person_id
    assert_problem(client.get(path, headers=bearer_for(db_session, other_admin)), 404, "not-found")
    assert_problem(
        client.get(path, headers=bearer_for(db_session, user)), 403, "insufficient-scope"
    )
    assert_problem(client.get(path), 401, "unauthorized")


def _commissioner_of(session: Session, user) -> str:  # type: ignore[no-untyped-def]
    from auth.models import Person

    person = session.get(Person, user.person_id)
    assert person is not None
    return person.commissioner_id
