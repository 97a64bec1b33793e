"""The data inventory: every table, what it holds, whose it is, and how long it is kept.

It is the one answer to three questions UK GDPR asks of us: what we hold about a person
(the subject access export reads it), how long we keep each kind of record (the retention
command reads it) and what is secret even from the person (redacted columns). A test
fails when a table is missing, so a new table cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.data_protection.models import Pseudonymisation
from app.notifications import Notification
from auth.models import (
    Invitation,
    OAuthToken,
    PasswordReset,
    Person,
    ProviderMembership,
    Representation,
    User,
    UserRole,
)
from budgets.bookings.models import Booking, Claim
from budgets.funding.models import Budget, BudgetChange, FundingStream
from budgets.ledger.models import LedgerEntry
from budgets.payments.models import Payment, PaymentRefund
from budgets.plans.models import CarePlan, PlanDecision, PlanLine, PlanOutcome
from employment import models as ips
from mobile_contract.notifications.models import DeviceToken, PushDelivery


class Category(StrEnum):
    PERSONAL = "personal"  # about an identifiable person: exported, retained by rule
    ORGANISATIONAL = "organisational"  # about organisations and their configuration
    OPERATIONAL = "operational"  # short-lived technical records about requests


@dataclass(frozen=True)
class Subject:
    """The person an export or erasure is about, and their own logins."""

    person_id: str | None
    user_ids: frozenset[str]


Finder = Callable[[Subject], Select[Any]]


@dataclass(frozen=True)
class Holding:
    """One table in the inventory."""

    table: str
    category: Category
    purpose: str
    finder: Finder | None = None  # the subject's rows, for personal data
    redacted: tuple[str, ...] = ()  # secrets never exported, even to the person
    export_name: str | None = None  # the bundle section; defaults to the table name
    extra: dict[str, str] = field(default_factory=dict)


def _own_user_rows(model: type, column: str = "user_id") -> Finder:
    return lambda s: select(model).where(getattr(model, column).in_(sorted(s.user_ids)))


def _person_rows(model: type, column: str = "person_id") -> Finder:
    return lambda s: select(model).where(getattr(model, column) == s.person_id)


def _budgets_of(s: Subject) -> Select[Any]:
    return select(Budget.id).where(Budget.person_id == s.person_id)


def _plans_of(s: Subject) -> Select[Any]:
    return select(CarePlan.id).where(CarePlan.person_id == s.person_id)


def _budget_rows(model: Any) -> Finder:
    return lambda s: select(model).where(model.budget_id.in_(_budgets_of(s)))


def _plan_rows(model: Any) -> Finder:
    return lambda s: select(model).where(model.plan_id.in_(_plans_of(s)))


def _referrals_of(s: Subject) -> Select[Any]:
    return select(ips.Referral.id).where(ips.Referral.person_id == s.person_id)


def _referral_rows(model: Any) -> Finder:
    return lambda s: select(model).where(model.referral_id.in_(_referrals_of(s)))


HOLDINGS: list[Holding] = [
    Holding(
        "people",
        Category.PERSONAL,
        "Who holds a budget: name, date of birth, NHS number, postcode, broker",
        lambda s: select(Person).where(Person.id == s.person_id),
        export_name="profile",
    ),
    Holding(
        "users",
        Category.PERSONAL,
        "Logins: email, display name, sign-in throttling",
        lambda s: select(User).where(User.id.in_(sorted(s.user_ids))),
        redacted=("password_hash",),
        export_name="accounts",
    ),
    Holding("user_roles", Category.PERSONAL, "Roles of each login", _own_user_rows(UserRole)),
    Holding(
        "representations",
        Category.PERSONAL,
        "Who acts for the person (parent, nominee, deputy)",
        lambda s: select(Representation).where(
            or_(
                Representation.person_id == s.person_id,
                Representation.representative_id.in_(sorted(s.user_ids)),
            )
        ),
        export_name="representatives",
    ),
    Holding(
        "provider_memberships",
        Category.PERSONAL,
        "Provider staff membership of organisations",
        _own_user_rows(ProviderMembership),
    ),
    Holding(
        "oauth_tokens",
        Category.PERSONAL,
        "Sign-in sessions (only hashes of tokens are held)",
        _own_user_rows(OAuthToken),
        redacted=("access_token_hash", "refresh_token_hash"),
        export_name="sign_in_sessions",
    ),
    Holding(
        "notifications",
        Category.PERSONAL,
        "Messages sent to the person's app",
        _own_user_rows(Notification),
    ),
    Holding(
        "audit_entries",
        Category.PERSONAL,
        "Who read or changed the person's records",
        lambda s: select(AuditEntry).where(
            or_(
                AuditEntry.subject_person_id == s.person_id,
                AuditEntry.actor_user_id.in_(sorted(s.user_ids)),
            )
        ),
        export_name="audit_trail",
    ),
    Holding("budgets", Category.PERSONAL, "Budgets allocated to the person", _person_rows(Budget)),
    Holding(
        "funding_streams",
        Category.PERSONAL,
        "The NHS and council money in each budget",
        _budget_rows(FundingStream),
    ),
    Holding(
        "budget_changes",
        Category.PERSONAL,
        "Adjustments, suspensions, endings and recoveries of budgets",
        _budget_rows(BudgetChange),
    ),
    Holding(
        "ledger_entries",
        Category.PERSONAL,
        "Every movement of the person's money",
        _budget_rows(LedgerEntry),
        export_name="ledger",
    ),
    Holding(
        "care_plans",
        Category.PERSONAL,
        "Care and support plans, every version",
        _person_rows(CarePlan),
    ),
    Holding(
        "plan_outcomes",
        Category.PERSONAL,
        "Outcomes in the person's own words",
        _plan_rows(PlanOutcome),
    ),
    Holding("plan_lines", Category.PERSONAL, "What each plan buys", _plan_rows(PlanLine)),
    Holding(
        "plan_decisions",
        Category.PERSONAL,
        "Submissions and broker decisions on plans",
        _plan_rows(PlanDecision),
    ),
    Holding(
        "funding_policies",
        Category.ORGANISATIONAL,
        "Commissioners' local rules (review intervals, notice periods)",
    ),
    Holding(
        "invitations",
        Category.PERSONAL,
        "Invitations to open an account (email, name, role)",
        lambda s: select(Invitation).where(
            or_(
                Invitation.person_id == s.person_id,
                Invitation.accepted_user_id.in_(sorted(s.user_ids)),
            )
        ),
        redacted=("token_hash",),
    ),
    Holding(
        "password_resets",
        Category.PERSONAL,
        "Password reset requests",
        _own_user_rows(PasswordReset),
        redacted=("token_hash",),
    ),
    Holding(
        "oauth_authorization_codes",
        Category.OPERATIONAL,
        "Single-use sign-in codes, valid for a minute, stored as hashes",
    ),
    Holding(
        "ips_referrals",
        Category.PERSONAL,
        "Referrals to IPS employment support",
        _person_rows(ips.Referral),
        export_name="employment_referrals",
    ),
    Holding(
        "ips_caseload_assignments",
        Category.PERSONAL,
        "Which employment specialist works with the person",
        _referral_rows(ips.CaseloadAssignment),
    ),
    Holding(
        "ips_vocational_profiles",
        Category.PERSONAL,
        "Job preferences, strengths, work history, education",
        _referral_rows(ips.VocationalProfile),
    ),
    Holding(
        "ips_disclosure_discussions",
        Category.PERSONAL,
        "Conversations about telling employers about the condition",
        _referral_rows(ips.DisclosureDiscussion),
    ),
    Holding(
        "ips_benefits_sessions",
        Category.PERSONAL,
        "Benefits planning sessions",
        _referral_rows(ips.BenefitsPlanningSession),
    ),
    Holding(
        "ips_contacts",
        Category.PERSONAL,
        "Contacts made with or for the person",
        _referral_rows(ips.Contact),
    ),
    Holding(
        "ips_appointments",
        Category.PERSONAL,
        "Appointments with the employment specialist",
        _referral_rows(ips.Appointment),
    ),
    Holding(
        "ips_employer_contact_people",
        Category.PERSONAL,
        "Employer contacts made for the person",
        _referral_rows(ips.EmployerContactPerson),
    ),
    Holding(
        "ips_jobs",
        Category.PERSONAL,
        "Jobs the person started",
        _referral_rows(ips.Job),
    ),
    Holding("ips_services", Category.ORGANISATIONAL, "IPS services run by providers"),
    Holding("ips_service_areas", Category.ORGANISATIONAL, "Areas each IPS service covers"),
    Holding("ips_specialists", Category.ORGANISATIONAL, "Employment specialists and their FTE"),
    Holding("ips_employers", Category.ORGANISATIONAL, "Employers a service works with"),
    Holding(
        "ips_employer_contacts", Category.ORGANISATIONAL, "Job development contacts with employers"
    ),
    Holding(
        "ips_dated_rates", Category.ORGANISATIONAL, "Dated Universal Credit and minimum wage rates"
    ),
    Holding("ips_outcome_rules", Category.ORGANISATIONAL, "Services' outcome definitions"),
    Holding("ips_fidelity_reviews", Category.ORGANISATIONAL, "IPS fidelity reviews of a service"),
    Holding(
        "device_tokens",
        Category.PERSONAL,
        "Phones the person signed in on, for push notifications",
        _own_user_rows(DeviceToken),
        redacted=("token",),
        export_name="devices",
    ),
    Holding(
        "push_deliveries",
        Category.PERSONAL,
        "Which notifications were pushed to the person's phones",
        lambda s: select(PushDelivery).where(
            PushDelivery.notification_id.in_(
                select(Notification.id).where(Notification.user_id.in_(sorted(s.user_ids)))
            )
        ),
    ),
    Holding(
        "tombstones",
        Category.OPERATIONAL,
        "Ids of deleted records, so syncing apps learn they are gone; no content",
    ),
    Holding(
        "idempotency_records",
        Category.OPERATIONAL,
        "Stored responses for safe retries, purged after IDEMPOTENCY_KEY_TTL_HOURS",
    ),
    Holding(
        "pseudonymisations",
        Category.PERSONAL,
        "When the person's identifying details were removed after retention",
        _person_rows(Pseudonymisation),
    ),
    Holding("commissioners", Category.ORGANISATIONAL, "ICBs and councils that fund budgets"),
    Holding("oauth_clients", Category.ORGANISATIONAL, "Applications allowed to sign people in"),
    Holding(
        "provider_organisations",
        Category.ORGANISATIONAL,
        "Providers people buy support from",
    ),
    Holding(
        "provider_service_areas",
        Category.ORGANISATIONAL,
        "Postcode districts and council areas each provider serves",
    ),
    Holding("offers", Category.ORGANISATIONAL, "What providers offer, at what price"),
    Holding("offer_areas", Category.ORGANISATIONAL, "Where each offer is delivered"),
    Holding("bookings", Category.PERSONAL, "Services the person booked", _person_rows(Booking)),
    Holding(
        "claims",
        Category.PERSONAL,
        "Providers' claims for deliveries to the person",
        _person_rows(Claim),
    ),
    Holding(
        "payments",
        Category.PERSONAL,
        "Payments to providers from the person's budget",
        _person_rows(Payment),
    ),
    Holding(
        "payment_refunds",
        Category.PERSONAL,
        "Money taken back from providers into the person's budget",
        lambda s: select(PaymentRefund).where(
            PaymentRefund.payment_id.in_(select(Payment.id).where(Payment.person_id == s.person_id))
        ),
    ),
    Holding(
        "provider_stripe_accounts",
        Category.ORGANISATIONAL,
        "Providers' Stripe connected accounts and their readiness to be paid",
    ),
    Holding(
        "provider_payouts",
        Category.ORGANISATIONAL,
        "Payouts from providers' Stripe balances to their banks",
    ),
    Holding(
        "stripe_events",
        Category.OPERATIONAL,
        "Ids of Stripe webhook events received, so each is applied once",
    ),
]


def holdings_by_table() -> dict[str, Holding]:
    return {holding.table: holding for holding in HOLDINGS}


def subject_for_person(session: Session, person_id: str) -> Subject:
    """The person and the logins that are theirs (their own, not their representatives')."""
    user_ids = frozenset(session.scalars(select(User.id).where(User.person_id == person_id)))
    return Subject(person_id=person_id, user_ids=user_ids)


def subject_for_user(session: Session, user_id: str) -> Subject:
    """A login and, when the login holds a budget, its person."""
    user = session.get(User, user_id)
    person_id = user.person_id if user is not None else None
    return Subject(person_id=person_id, user_ids=frozenset({user_id}))
