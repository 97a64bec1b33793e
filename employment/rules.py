"""IPS rules shared by the sub-packages: the referral life cycle, closed lists of reasons,
and the fixed definitions from the domain (active = contact in the last 4 weeks, hours bands,
fidelity bands). Figures that change by regulation are not here: see `employment.rates`.

Zero exclusion: the only reason a referral can be closed before work starts that concerns
the person is that they do not want paid work. No list here names a diagnosis, substance
use, housing, benefits or a criminal record, and no endpoint accepts free text as a reason.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

REFERRAL_SOURCES = ("self", "broker", "clinician")

RECEIVED, ACCEPTED, FIRST_CONTACT, ACTIVE, DISCHARGED = (
    "received",
    "accepted",
    "first_contact",
    "active",
    "discharged",
)
REFERRAL_STATES = (RECEIVED, ACCEPTED, FIRST_CONTACT, ACTIVE, DISCHARGED)
OPEN_STATES = (RECEIVED, ACCEPTED, FIRST_CONTACT, ACTIVE)
ON_CASELOAD_STATES = (ACCEPTED, FIRST_CONTACT, ACTIVE)

# Where each state may go next (discharge is possible from any open state).
NEXT_STATES: dict[str, tuple[str, ...]] = {
    RECEIVED: (ACCEPTED, DISCHARGED),
    ACCEPTED: (FIRST_CONTACT, DISCHARGED),
    FIRST_CONTACT: (ACTIVE, DISCHARGED),
    ACTIVE: (DISCHARGED,),
    DISCHARGED: (),
}

# Why an episode ends. None of these screens anyone out.
CLOSURE_REASONS = (
    "does_not_want_paid_work",
    "person_chose_to_leave",
    "moved_out_of_area",
    "lost_contact",
    "in_work_no_longer_needs_support",
    "duplicate_referral",
    "died",
)
# Grounds that zero exclusion forbids as a reason to refuse or discharge anyone.
EXCLUDED_GROUNDS = ("diagnosis", "substance", "housing", "benefit", "criminal", "readiness")

CONTACT_WITH = ("person", "employer", "clinical_team", "jobcentre", "family_or_carer", "other")
CONTACT_MODES = ("in_person", "remote")
CONTACT_SETTINGS = ("community", "office")
DISCLOSURE_DECISIONS = ("full", "partial", "none", "undecided")
BENEFITS_TRIGGERS = ("before_job_start", "hours_change", "pay_change", "initial", "other")
EMPLOYER_CONTACT_PURPOSES = ("job_development", "placement", "in_work_support", "other")
JOB_END_REASONS = (
    "resigned",
    "dismissed",
    "contract_ended",
    "moved_to_better_job",
    "business_closed",
    "other",
)

ACTIVE_WINDOW = timedelta(weeks=4)
RAPID_JOB_SEARCH_DAYS = 30
FOUR_PAID_HOURS = Decimal(4)

# In-work support: weekly in the first month after a start, then about monthly.
FOLLOW_ALONG_FIRST_MONTH = timedelta(days=28)
FOLLOW_ALONG_WEEKLY = timedelta(days=7)
FOLLOW_ALONG_MONTHLY = timedelta(days=31)

SUSTAINMENT_WEEKS = (13, 26, 52)

# MHSDS weekly-hours bands, highest first: (label, lowest hours in the band).
HOURS_BANDS: tuple[tuple[str, Decimal], ...] = (
    ("30+", Decimal(30)),
    ("16-29", Decimal(16)),
    ("5-15", Decimal(5)),
    ("1-4", Decimal(1)),
    ("under 1", Decimal(0)),
)

FIDELITY_ITEMS = 25
# IPS-25 total bands, highest first: (band, lowest total).
FIDELITY_BANDS = (("exemplary", 115), ("good", 100), ("fair", 74), ("not_ips", 0))


def hours_band(hours_per_week: Decimal) -> str:
    """The MHSDS weekly-hours band of a job."""
    for label, lowest in HOURS_BANDS:
        if hours_per_week >= lowest:
            return label
    return HOURS_BANDS[-1][0]


def fidelity_band(total: int) -> str:
    """The IPS-25 band of a fidelity total (25-125)."""
    for band, lowest in FIDELITY_BANDS:
        if total >= lowest:
            return band
    return FIDELITY_BANDS[-1][0]
