"""Which months a person may pay (normal or back payment), from facts the caller passes in."""

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
from domain.vocabulary import Sex


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


def open_months(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month]
) -> list[Month]:
    """Months open for a normal payment: this year's up to this month, not paid or in flight."""
    if not facts.registration_active:
        return []
    # The person's age settings come from this year's policy; POLICY_MISSING if there is none.
    policy = policies.for_year(today.year)
    if today > policy.cutoff_date:
        return []
    current = Month.from_date(today)
    start = max(Month(today.year, 1), facts.registration_start)
    window = _age_window(facts, policy, taken)
    return [m for m in month_range(start, current) if m not in taken and window.allows(m)]


def arrears(
    facts: PayerFacts, today: date, policies: PolicyBook, taken: Collection[Month]
) -> list[Month]:
    """Months owed (补缴): unpaid months before this month since registration; prior years only
    where that year's policy allows back payment."""
    if not facts.registration_active:
        return []
    policy = policies.for_year(today.year)
    current = Month.from_date(today)
    window = _age_window(facts, policy, taken)
    result: list[Month] = []
    for m in month_range(facts.registration_start, current.prev()):
        if m in taken or not window.allows(m):
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
) -> None:
    """Refuse, with the most specific code, a selection of months that cannot be paid now."""
    listed = _check_list_shape(months)
    if any(m in paid for m in listed):
        raise DomainError.of(MONTH_ALREADY_PAID)
    if any(m in in_flight for m in listed):
        raise DomainError.of(MONTH_IN_FLIGHT)
    if not facts.registration_active:
        raise DomainError.of(NOT_ELIGIBLE)
    policy = policies.for_year(today.year)
    taken = set(paid) | set(in_flight)
    window = _age_window(facts, policy, taken)
    if not all(window.allows(m) for m in listed):
        raise DomainError.of(NOT_ELIGIBLE)
    allowed = set(
        arrears(facts, today, policies, taken)
        if back_payment
        else open_months(facts, today, policies, taken)
    )
    if not all(m in allowed for m in listed):
        raise DomainError.of(MONTH_NOT_OPEN)
