"""Assessment (应缴费额): amount per month from the month's year policy, interest, total."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

from pydantic import BaseModel, ConfigDict

from domain.errors import INVALID_MONTH, DomainError
from domain.money import round_half_up
from domain.months import Month
from domain.policy import PolicyBook
from domain.vocabulary import Insurance


class AssessmentLine(BaseModel):
    """One month of an assessment; serialisable (workflow payloads, API quote lines)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    month: str  # "YYYY-MM"
    base_fen: int
    rate: str  # decimal string, e.g. "0.20"
    amount_fen: int
    interest_fen: int


class Assessment(BaseModel):
    """The amount due for a selection of months at one grade."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lines: tuple[AssessmentLine, ...]
    total_fen: int
    policy_years: tuple[int, ...]
    # True if any month's policy is provisional: the payer sees the figures are not final.
    provisional: bool


def assess(
    policies: PolicyBook,
    months: list[Month],
    grade: int,
    today: date,
    insurance: Insurance = Insurance.PENSION,
) -> Assessment:
    """Assess months (strictly ascending) at a grade; each month priced by its own year's policy
    of the insurance (城乡居民基本医疗保险: one line per coverage year, no grade).

    Raises INVALID_MONTH, POLICY_MISSING or GRADE_UNKNOWN.
    """
    if not months or any(a >= b for a, b in pairwise(months)):
        raise DomainError.of(INVALID_MONTH)
    if insurance == Insurance.RESIDENT_MEDICAL:
        return _assess_resident_medical(policies, months)
    current = Month.from_date(today)
    lines: list[AssessmentLine] = []
    years: set[int] = set()
    provisional = False
    for month in months:
        policy = policies.for_year(month.year)
        line = policy.grade_line(grade)
        interest = 0
        # Interest (滞纳金/利息) only on prior years' months, at that year's policy rate; rounded
        # per month like the amount itself.
        if month.year < today.year and policy.interest_rate_per_annum > 0:
            months_late = max(0, month.months_until(current))
            interest = round_half_up(
                Decimal(line.monthly_fen) * policy.interest_rate_per_annum * months_late / 12
            )
        lines.append(
            AssessmentLine(
                month=str(month),
                base_fen=line.base_fen,
                rate=str(policy.rate),
                amount_fen=line.monthly_fen,
                interest_fen=interest,
            )
        )
        years.add(month.year)
        provisional = provisional or policy.provisional
    return Assessment(
        lines=tuple(lines),
        total_fen=sum(line.amount_fen + line.interest_fen for line in lines),
        policy_years=tuple(sorted(years)),
        provisional=provisional,
    )


def _assess_resident_medical(policies: PolicyBook, years: list[Month]) -> Assessment:
    """A coverage year (its YYYY-01) at the year's amount per person; no base, rate or interest."""
    if any(m.month != 1 for m in years):
        raise DomainError.of(INVALID_MONTH)
    lines: list[AssessmentLine] = []
    provisional = False
    for m in years:
        policy = policies.medical(m.year)
        lines.append(
            AssessmentLine(
                month=str(m),
                base_fen=0,
                rate="0",
                amount_fen=policy.amount_per_person_fen,
                interest_fen=0,
            )
        )
        provisional = provisional or policy.provisional
    return Assessment(
        lines=tuple(lines),
        total_fen=sum(line.amount_fen for line in lines),
        policy_years=tuple(m.year for m in years),
        provisional=provisional,
    )
