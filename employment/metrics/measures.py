"""The IPS measures, computed from plain facts with exactly the definitions in DOMAIN.md.

Pure functions over snapshots of the records (no database, no clock), so each definition
can be checked against a hand-worked example.
The definitions are in DEFINITIONS, which the API documentation shows too.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from statistics import median
from typing import Any

from employment.jobs.follow_along import follow_along_status
from employment.rules import (
    ACTIVE_WINDOW,
    HOURS_BANDS,
    RAPID_JOB_SEARCH_DAYS,
    SUSTAINMENT_WEEKS,
    hours_band,
)

DEFINITIONS = """\
- **Referral date**: the day the referral was accepted onto the caseload (`accepted_on`).
- **Access**: a referral counts once, on the day of its first direct contact with the person
  (MHS116); reported for the period, the rolling 12 months ending on the period end, and
  the financial year (from 1 April) to the period end.
- **Active**: on the caseload at the period end (accepted, not yet discharged) with a direct
  contact in the 4 weeks up to it; shown per full-time-equivalent specialist.
- **Rapid job search**: for referrals accepted in the period, the days from the referral
  date to the first face-to-face employer contact made for them; within 30 days counts
  (day 30 in, day 31 out). The share is over every referral accepted in the period.
- **Employer contacts**: face-to-face employer contacts in the period, per specialist (and
  per FTE) per week (period days / 7).
- **Job start**: a competitive job or self-employment counts on the day 4 paid hours were
  reached. A **first start** is the first such start of the referral.
- **Employment rate**: of people out of work at referral who were accessed by the period
  end and still on the caseload at some point in it, those with a job start in the period.
- **Sustainment** at 13, 26 and 52 weeks: of job starts whose N-week point falls in the
  period, those still in the job on it (end date on or after start + N weeks).
- **Hours bands**: job starts in the period by MHSDS weekly-hours band.
- **Follow-along compliance**: of jobs held at the period end, those whose in-work support
  is not overdue then (weekly in the first month, then at least monthly).
- **Job outcomes**: per funder rule, jobs whose hours and pay meet it and that lasted the
  weeks required (within its window); counted on the day the weeks are completed.
"""


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        # Every caller passes a date or None: compared, not type-checked, as a metrics
        # read tests a day against a period thousands of times.
        return day is not None and self.start <= day <= self.end  # type: ignore[operator]

    def as_json(self) -> dict[str, str]:
        """The bounds as the API shows them (ISO dates)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def weeks(self) -> Decimal:
        return Decimal((self.end - self.start).days + 1) / 7


@dataclass(frozen=True)
class ReferralFacts:
    id: str
    specialist_id: str | None
    in_work_at_referral: bool
    accepted_on: date | None
    first_contact_on: date | None
    discharged_on: date | None
    first_employer_contact_on: date | None = None
    last_direct_contact_on: date | None = None  # on or before the period end


@dataclass(frozen=True)
class JobFacts:
    id: str
    referral_id: str
    start_date: date
    hours_per_week: Decimal
    hourly_pay_pence: int
    minimum_wage_pence: int | None
    counts_as_job: bool  # competitive employment or self-employment
    four_paid_hours_on: date | None
    end_date: date | None
    last_support_on: date | None = None  # on or before the period end


@dataclass(frozen=True)
class OutcomeRuleFacts:
    name: str
    min_hours_per_week: Decimal
    weeks_required: int
    within_weeks: int
    min_hourly_pay_pence: int | None
    requires_minimum_wage: bool


@dataclass(frozen=True)
class SpecialistFacts:
    id: str
    fte: Decimal
    face_to_face_employer_contacts: int = 0


@dataclass
class Facts:
    referrals: list[ReferralFacts]
    jobs: list[JobFacts]
    specialists: list[SpecialistFacts]
    rules: list[OutcomeRuleFacts] = field(default_factory=list)


def financial_year_start(day: date) -> date:
    """1 April of the financial year the day falls in."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def rolling_year_start(end: date) -> date:
    """The first day of the 12 months ending on `end`."""
    try:
        year_before = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        year_before = end.replace(year=end.year - 1, day=28)
    return year_before + timedelta(days=1)


def _share(part: int, whole: int | Decimal) -> float | None:
    return None if not whole else round(float(Decimal(part) / Decimal(whole)), 4)


def _ratio(value: int | Decimal, over: Decimal) -> float | None:
    return None if not over else round(float(Decimal(value) / over), 2)


def access(referrals: Iterable[ReferralFacts], period: Period) -> dict[str, Any]:
    rolling = Period(rolling_year_start(period.end), period.end)
    fytd = Period(financial_year_start(period.end), period.end)
    first_contacts = sorted(r.first_contact_on for r in referrals if r.first_contact_on)

    def count(window: Period) -> int:
        return bisect_right(first_contacts, window.end) - bisect_left(first_contacts, window.start)

    return {
        "in_period": count(period),
        "rolling_12_months": {**rolling.as_json(), "count": count(rolling)},
        "financial_year_to_date": {**fytd.as_json(), "count": count(fytd)},
    }


def on_caseload_at(referral: ReferralFacts, day: date) -> bool:
    return (
        referral.accepted_on is not None
        and referral.accepted_on <= day
        and (referral.discharged_on is None or referral.discharged_on > day)
    )


def is_active_at(referral: ReferralFacts, day: date) -> bool:
    """On the caseload with a direct contact in the 4 weeks up to the day."""
    last = referral.last_direct_contact_on
    return on_caseload_at(referral, day) and last is not None and day - last < ACTIVE_WINDOW


def caseload(referrals: Iterable[ReferralFacts], fte: Decimal, period: Period) -> dict[str, Any]:
    active = sum(1 for r in referrals if is_active_at(r, period.end))
    return {"active_people": active, "fte": float(fte), "active_per_fte": _ratio(active, fte)}


def rapid_job_search(referrals: Iterable[ReferralFacts], period: Period) -> dict[str, Any]:
    cohort = [r for r in referrals if r.accepted_on in period]
    days = [
        (r.first_employer_contact_on - r.accepted_on).days
        for r in cohort
        if r.first_employer_contact_on is not None and r.accepted_on is not None
    ]
    within = sum(1 for d in days if d <= RAPID_JOB_SEARCH_DAYS)
    return {
        "referrals_accepted": len(cohort),
        "with_employer_contact": len(days),
        "within_30_days": within,
        "share_within_30_days": _share(within, len(cohort)),
        "median_days": median(days) if days else None,
        "mean_days": round(sum(days) / len(days), 1) if days else None,
    }


def employer_contacts(specialists: list[SpecialistFacts], period: Period) -> dict[str, Any]:
    total = sum(s.face_to_face_employer_contacts for s in specialists)
    fte = sum((s.fte for s in specialists), Decimal(0))
    per_week = Decimal(total) / period.weeks
    return {
        "face_to_face": total,
        "weeks": round(float(period.weeks), 2),
        "per_specialist_per_week": _ratio(per_week, Decimal(len(specialists))),
        "per_fte_per_week": _ratio(per_week, fte),
    }


def counted_starts(jobs: Iterable[JobFacts]) -> list[JobFacts]:
    """Jobs that count as job starts: competitive or self-employment, 4 paid hours reached."""
    return [j for j in jobs if j.counts_as_job and j.four_paid_hours_on is not None]


def first_start_ids(jobs: Iterable[JobFacts]) -> set[str]:
    """The first counted job start of each referral."""
    first: dict[str, JobFacts] = {}
    for job in counted_starts(jobs):
        held = first.get(job.referral_id)
        if held is None or (job.four_paid_hours_on, job.id) < (held.four_paid_hours_on, held.id):
            first[job.referral_id] = job
    return {j.id for j in first.values()}


def job_starts(jobs: list[JobFacts], period: Period) -> dict[str, Any]:
    starts = [j for j in counted_starts(jobs) if j.four_paid_hours_on in period]
    firsts = first_start_ids(jobs)
    bands = Counter(hours_band(j.hours_per_week) for j in starts)
    return {
        "all": len(starts),
        "first": sum(1 for j in starts if j.id in firsts),
        "hours_bands": {label: bands.get(label, 0) for label, _ in HOURS_BANDS},
    }


def employment_rate(
    referrals: list[ReferralFacts], jobs: list[JobFacts], period: Period
) -> dict[str, Any]:
    cohort = {
        r.id
        for r in referrals
        if not r.in_work_at_referral
        and r.first_contact_on is not None
        and r.first_contact_on <= period.end
        and (r.discharged_on is None or r.discharged_on >= period.start)
    }
    started = {
        j.referral_id
        for j in counted_starts(jobs)
        if j.referral_id in cohort and j.four_paid_hours_on in period
    }
    return {
        "out_of_work_accessed": len(cohort),
        "started_a_job": len(started),
        "rate": _share(len(started), len(cohort)),
    }


def sustained_to(job: JobFacts, weeks: int) -> bool:
    return job.end_date is None or job.end_date >= job.start_date + timedelta(weeks=weeks)


def sustainment(jobs: list[JobFacts], period: Period) -> dict[str, Any]:
    result: dict[str, Any] = {}
    starts = counted_starts(jobs)
    for weeks in SUSTAINMENT_WEEKS:
        due = [j for j in starts if j.start_date + timedelta(weeks=weeks) in period]
        kept = sum(1 for j in due if sustained_to(j, weeks))
        result[f"{weeks}_weeks"] = {
            "due": len(due),
            "sustained": kept,
            "rate": _share(kept, len(due)),
        }
    return result


def follow_along_compliance(jobs: list[JobFacts], period: Period) -> dict[str, Any]:
    held = [
        j
        for j in jobs
        if j.start_date <= period.end and (j.end_date is None or j.end_date > period.end)
    ]
    on_time = sum(
        1
        for j in held
        if not follow_along_status(j.start_date, j.last_support_on, period.end).overdue
    )
    return {
        "jobs_held": len(held),
        "supported_on_time": on_time,
        "compliance": _share(on_time, len(held)),
    }


def meets_rule(job: JobFacts, rule: OutcomeRuleFacts) -> date | None:
    """The day the job achieved the outcome, or None."""
    if job.hours_per_week < rule.min_hours_per_week:
        return None
    if rule.min_hourly_pay_pence is not None and job.hourly_pay_pence < rule.min_hourly_pay_pence:
        return None
    if rule.requires_minimum_wage and (
        job.minimum_wage_pence is None or job.hourly_pay_pence < job.minimum_wage_pence
    ):
        return None
    achieved_on = job.start_date + timedelta(weeks=rule.weeks_required)
    window_end = job.start_date + timedelta(weeks=rule.within_weeks)
    if rule.weeks_required > rule.within_weeks or achieved_on > window_end:
        return None
    if job.end_date is not None and job.end_date < achieved_on:
        return None
    return achieved_on


def job_outcomes(
    jobs: list[JobFacts], rules: list[OutcomeRuleFacts], period: Period
) -> list[dict[str, Any]]:
    starts = counted_starts(jobs)
    return [
        {
            "rule": rule.name,
            "achieved": sum(1 for j in starts if meets_rule(j, rule) in period),
        }
        for rule in rules
    ]


def service_measures(facts: Facts, period: Period) -> dict[str, Any]:
    """Every measure for a service (or one specialist's share of it) over a period."""
    fte = sum((s.fte for s in facts.specialists), Decimal(0))
    starts = job_starts(facts.jobs, period)
    return {
        "access": access(facts.referrals, period),
        "caseload": caseload(facts.referrals, fte, period),
        "rapid_job_search": rapid_job_search(facts.referrals, period),
        "employer_contacts": employer_contacts(facts.specialists, period),
        "job_starts": {"all": starts["all"], "first": starts["first"]},
        "hours_bands": starts["hours_bands"],
        "employment_rate": employment_rate(facts.referrals, facts.jobs, period),
        "sustainment": sustainment(facts.jobs, period),
        "follow_along": follow_along_compliance(facts.jobs, period),
        "job_outcomes": job_outcomes(facts.jobs, facts.rules, period),
    }
