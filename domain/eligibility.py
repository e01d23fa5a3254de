"""Which months a person may pay (normal, back or prepayment), from facts the caller passes in."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from domain.errors import (
    INVALID_MONTH,
    MONTH_ALREADY_PAID,
    MONTH_IN_FLIGHT,
    MONTH_NOT_OPEN,
    NOT_ELIGIBLE,
    YEAR_CLOSED,
    DomainError,
)
from domain.months import Month, month_range
from domain.policy import Policy, PolicyBook
from domain.retirement import (
    DEFAULT_WOMEN_ORIGINAL_AGE,
    first_month_of_age,
    minimum_contribution_months,
    statutory_retirement_month,
)
from domain.vocabulary import Insurance, Sex


@dataclass(frozen=True)
class PayerFacts:
    """What the registry (参保登记) and the ID number say about the person paying."""

    birth_date: date | None
    sex: Sex | None
    registration_start: Month
    registration_active: bool
    # A woman's pre-reform retirement age (50 or 55) as registered; None: the default (55).
    women_original_age: int | None = None


@dataclass(frozen=True)
class ContributionYears:
    """Months contributed against the minimum in force (最低缴费年限), for the counter."""

    months: int
    minimum_months: int
    # The statutory retirement month, when birth date and sex are known.
    retirement_month: Month | None

    @property
    def short_months(self) -> int:
        return max(0, self.minimum_months - self.months)


@dataclass(frozen=True)
class _AgeWindow:
    """The months age allows: from the minimum age through retirement, then while short."""

    first: Month | None
    retirement: Month | None
    # The last month payable after retirement by someone short of the minimum years.
    extended_to: Month | None

    def allows(self, month: Month) -> bool:
        if self.first is not None and month < self.first:
            return False
        if self.retirement is None or month <= self.retirement:
            return True
        return self.extended_to is not None and month <= self.extended_to


def _first_month_of_min_age(facts: PayerFacts, policy: Policy) -> Month | None:
    if facts.birth_date is None:
        return None
    return first_month_of_age(facts.birth_date, policy.retirement.min_age)


def retirement_month(facts: PayerFacts) -> Month | None:
    """The statutory retirement month, from the registration (women's original age included)."""
    # Both are needed: without sex the retirement age is unknown (passports carry neither).
    if facts.birth_date is None or facts.sex is None:
        return None
    return statutory_retirement_month(
        facts.birth_date, facts.sex, facts.women_original_age or DEFAULT_WOMEN_ORIGINAL_AGE
    )


def contribution_years(
    facts: PayerFacts, today: date, contributed: Collection[Month]
) -> ContributionYears:
    """The counter: months contributed against the minimum in force at retirement (or today)."""
    retirement = retirement_month(facts)
    year = retirement.year if retirement is not None else today.year
    return ContributionYears(len(contributed), minimum_contribution_months(year), retirement)


def _age_window(facts: PayerFacts, policy: Policy, taken: Collection[Month]) -> _AgeWindow:
    """Due through the retirement month; after it, as many months as the person is short of the
    minimum years (counting the months held up to retirement, so paying them keeps it open)."""
    retirement = retirement_month(facts)
    extended_to = None
    if retirement is not None:
        held = sum(1 for m in taken if m <= retirement)
        short = minimum_contribution_months(retirement.year) - held
        extended_to = retirement.add(short) if short > 0 else None
    return _AgeWindow(_first_month_of_min_age(facts, policy), retirement, extended_to)


def year_closed(policy: Policy, today: date) -> bool:
    """True once the policy year's cut-off has passed within that year: nothing of it is payable
    online until the year is over (then prior-year rules apply)."""
    return today.year == policy.year and today > policy.cutoff_date


def open_months(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month]
) -> list[Month]:
    """Months open for a normal payment up to now: this year's up to this month, not taken;
    none once the year's cut-off has passed."""
    return _this_year(facts, today, policies, taken, last=Month.from_date(today))


def prepay_months(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month]
) -> list[Month]:
    """Months a person may pay ahead (预缴): after this month through December, not taken;
    none once the year's cut-off has passed. Priced like any month of the year (no interest)."""
    months = _this_year(facts, today, policies, taken, last=Month(today.year, 12))
    current = Month.from_date(today)
    return [m for m in months if m > current]


def _this_year(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month], last: Month
) -> list[Month]:
    if not facts.registration_active:
        return []
    # The person's age settings come from this year's policy; POLICY_MISSING if there is none.
    policy = policies.for_year(today.year)
    if year_closed(policy, today):
        return []
    start = max(Month(today.year, 1), facts.registration_start)
    window = _age_window(facts, policy, taken)
    return [m for m in month_range(start, last) if m not in taken and window.allows(m)]


# 预缴 choices: how far ahead a payment reaches, as the last month of the period of this month.
PREPAY_PERIODS: dict[str, int] = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def prepay_choices(today: date, payable: Collection[Month]) -> dict[str, list[Month]]:
    """Per 预缴 period (按月/按季/按半年/按年), the payable months from this month through the end
    of the period this month falls in; a period with nothing payable is left out."""
    current = Month.from_date(today)
    result: dict[str, list[Month]] = {}
    for name, length in PREPAY_PERIODS.items():
        end = Month(today.year, ((today.month - 1) // length + 1) * length)
        chosen = [m for m in month_range(current, end) if m in payable]
        if chosen:
            result[name] = chosen
    return result


def arrears(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month]
) -> list[Month]:
    """Months owed (补缴): unpaid months before this month since registration; this year's only
    until its cut-off, prior years' only where that year's policy allows back payment."""
    if not facts.registration_active:
        return []
    policy = policies.for_year(today.year)
    closed = year_closed(policy, today)
    current = Month.from_date(today)
    window = _age_window(facts, policy, taken)
    result: list[Month] = []
    for m in month_range(facts.registration_start, current.prev()):
        if m in taken or not window.allows(m):
            continue
        if m.year == today.year and closed:
            continue
        if m.year < today.year:
            year_policy = policies.get(m.year)
            if year_policy is None or not year_policy.back_payment_prior_years_allowed:
                continue
        result.append(m)
    return result


def _check_list_shape(months: Iterable[Month]) -> list[Month]:
    listed = list(months)
    if not listed or any(not isinstance(m, Month) for m in listed):
        raise DomainError.of(INVALID_MONTH)
    # Strictly ascending rules out duplicates and unsorted lists in one comparison.
    if any(a >= b for a, b in pairwise(listed)):
        raise DomainError.of(INVALID_MONTH)
    return listed


def check_months(
    facts: PayerFacts,
    months: list[Month],
    back_payment: bool,
    today: date,
    policies: PolicyBook,
    paid: Collection[Month],
    in_flight: Collection[Month],
    insurance: Insurance = Insurance.PENSION,
) -> None:
    """Refuse, with the most specific code, a selection of months that cannot be paid now."""
    listed = _check_list_shape(months)
    if any(m in paid for m in listed):
        raise DomainError.of(MONTH_ALREADY_PAID)
    if any(m in in_flight for m in listed):
        raise DomainError.of(MONTH_IN_FLIGHT)
    if not facts.registration_active:
        raise DomainError.of(NOT_ELIGIBLE)
    if insurance == Insurance.RESIDENT_MEDICAL:
        _check_coverage_years(facts, listed, back_payment, today, policies)
        return
    policy = policies.for_year(today.year)
    taken = set(paid) | set(in_flight)
    window = _age_window(facts, policy, taken)
    if not all(window.allows(m) for m in listed):
        raise DomainError.of(NOT_ELIGIBLE)
    if year_closed(policy, today) and any(m.year == today.year for m in listed):
        raise DomainError.of(YEAR_CLOSED)
    allowed = set(
        arrears(facts, today, policies, taken)
        if back_payment
        else open_months(facts, today, policies, taken)
        + prepay_months(facts, today, policies, taken)
    )
    if not all(m in allowed for m in listed):
        raise DomainError.of(MONTH_NOT_OPEN)


# ---- 城乡居民基本医疗保险: one payment per coverage year, in its collection period ----


def coverage_years_open(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month]
) -> list[Month]:
    """Coverage years (as their YYYY-01) payable today: in the collection period, registered by
    the coverage year, not paid or in flight."""
    if not facts.registration_active:
        return []
    return [
        Month(p.year, 1)
        for p in policies.medical_policies()
        if p.collecting(today)
        and facts.registration_start <= Month(p.year, 12)
        and Month(p.year, 1) not in taken
    ]


def coverage_year_closed(policies: PolicyBook, today: date, year: int) -> bool:
    """True once the coverage year's collection period is over (offline only from then)."""
    policy = next((p for p in policies.medical_policies() if p.year == year), None)
    return policy is not None and today > policy.collection_end


def _check_coverage_years(
    facts: PayerFacts,
    listed: list[Month],
    back_payment: bool,
    today: date,
    policies: PolicyBook,
) -> None:
    if any(m.month != 1 for m in listed):
        raise DomainError.of(INVALID_MONTH)
    if any(coverage_year_closed(policies, today, m.year) for m in listed):
        raise DomainError.of(YEAR_CLOSED)
    # There is no back payment of a coverage year: it is paid in its period or not online.
    allowed = set() if back_payment else set(coverage_years_open(facts, today, policies, ()))
    if not all(m in allowed for m in listed):
        raise DomainError.of(MONTH_NOT_OPEN)
