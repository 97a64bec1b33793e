"""Rates set by regulation, read as dated data: the minimum wage for a person's age on a
date, and the Universal Credit work allowance and taper used in benefits planning.

A new rate is a new `DatedRate` row with its effective date (the migration loads the
published ones); nothing here hard-codes an amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain_errors import Conflict
from app.pagination import Page, PageRequest, keyset_page
from employment.models import DatedRate

MINIMUM_WAGE = "minimum_wage"
UC_WORK_ALLOWANCE_WITH_HOUSING = "uc_work_allowance_with_housing"
UC_WORK_ALLOWANCE_WITHOUT_HOUSING = "uc_work_allowance_without_housing"
UC_TAPER = "uc_taper_rate"
RATE_UNITS = {
    MINIMUM_WAGE: "pence_per_hour",
    UC_WORK_ALLOWANCE_WITH_HOUSING: "pence_per_month",
    UC_WORK_ALLOWANCE_WITHOUT_HOUSING: "pence_per_month",
    UC_TAPER: "basis_points",
}


def list_rates(session: Session, *, kind: str | None, page: PageRequest) -> Page[DatedRate]:
    """The dated rates, optionally of one kind, in id order."""
    stmt = select(DatedRate)
    if kind:
        stmt = stmt.where(DatedRate.kind == kind)
    return keyset_page(session, stmt, keys=[DatedRate.id], page=page, scope=f"ips-rates:{kind}")


def add_rate(
    session: Session, *, kind: str, min_age: int, effective_from: date, value: int
) -> DatedRate:
    """Add a new regulated rate from its effective date (an operator task, e.g. each April)."""
    taken = session.scalar(
        select(DatedRate.id).where(
            DatedRate.kind == kind,
            DatedRate.min_age == min_age,
            DatedRate.effective_from == effective_from,
        )
    )
    if taken:
        raise Conflict("A rate of this kind and age band already starts on that date.")
    rate = DatedRate(
        kind=kind,
        min_age=min_age,
        effective_from=effective_from,
        value=value,
        unit=RATE_UNITS[kind],
    )
    session.add(rate)
    session.commit()
    return rate


def rate_in_force(session: Session, *, kind: str, on: date, age: int = 0) -> DatedRate | None:
    """The rate of this kind in force on a date, for the highest age band the age reaches."""
    return session.scalars(
        select(DatedRate)
        .where(DatedRate.kind == kind, DatedRate.effective_from <= on, DatedRate.min_age <= age)
        .order_by(DatedRate.effective_from.desc(), DatedRate.min_age.desc())
        .limit(1)
    ).first()


def age_on(date_of_birth: date, on: date) -> int:
    """Age in whole years on a date."""
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - int(before_birthday)


def minimum_wage_pence(session: Session, *, on: date, date_of_birth: date | None) -> int | None:
    """The legal hourly minimum for this age on this date (the adult rate when age is unknown)."""
    age = age_on(date_of_birth, on) if date_of_birth else 200
    rate = rate_in_force(session, kind=MINIMUM_WAGE, on=on, age=age)
    return int(rate.value) if rate else None


@dataclass(frozen=True)
class UniversalCreditEstimate:
    """How much Universal Credit falls by for some monthly earnings, and the rates used."""

    work_allowance_pence: int
    taper_basis_points: int
    reduction_pence: int


def estimate_uc_reduction(
    session: Session,
    *,
    on: date,
    monthly_earnings_pence: int,
    has_work_allowance: bool,
    housing_costs_in_uc: bool,
) -> UniversalCreditEstimate | None:
    """The monthly UC reduction for these earnings under the rates in force (None if unset)."""
    taper = rate_in_force(session, kind=UC_TAPER, on=on)
    if taper is None:
        return None
    allowance = 0
    if has_work_allowance:
        kind = (
            UC_WORK_ALLOWANCE_WITH_HOUSING
            if housing_costs_in_uc
            else UC_WORK_ALLOWANCE_WITHOUT_HOUSING
        )
        rate = rate_in_force(session, kind=kind, on=on)
        if rate is None:
            return None
        allowance = int(rate.value)
    taxed = max(0, monthly_earnings_pence - allowance)
    reduction = taxed * int(taper.value) // 10_000
    return UniversalCreditEstimate(
        work_allowance_pence=allowance,
        taper_basis_points=int(taper.value),
        reduction_pence=reduction,
    )
