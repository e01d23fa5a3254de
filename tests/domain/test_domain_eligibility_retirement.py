"""Retirement: contributions due through the retirement month, then while short of the minimum."""

from __future__ import annotations

from datetime import date

import pytest

from domain.eligibility import PayerFacts, arrears, check_months, contribution_years, open_months
from domain.errors import DomainError
from domain.months import Month, month_range
from domain.policy import PolicyBook, load_policy_file
from domain.retirement import minimum_contribution_months
from domain.vocabulary import Sex

BOOK = PolicyBook(load_policy_file())
# A man born 1966-06-15 reaches his statutory retirement month in November 2026.
RETIRES_NOV_2026 = PayerFacts(date(1966, 6, 15), Sex.MALE, Month(2026, 1), True)
RETIREMENT = Month(2026, 11)
DEC_15 = date(2026, 12, 15)


def held_through(last: Month, count: int) -> set[Month]:
    """`count` months held, ending with `last`."""
    return set(month_range(last.add(-count + 1), last))


def test_the_retirement_month_itself_is_payable_and_the_next_is_not_at_the_minimum() -> None:
    held = held_through(Month(2025, 12), 180)  # 15 years by the end of 2025
    opened = open_months(RETIRES_NOV_2026, DEC_15, BOOK, held)
    assert opened[-1] == RETIREMENT  # 2026-11 yes, 2026-12 no
    assert arrears(RETIRES_NOV_2026, DEC_15, BOOK, held)[-1] == RETIREMENT
    check_months(RETIRES_NOV_2026, [RETIREMENT], False, DEC_15, BOOK, held, set())
    with pytest.raises(DomainError) as refused:
        check_months(RETIRES_NOV_2026, [Month(2026, 12)], False, DEC_15, BOOK, held, set())
    assert refused.value.code == "NOT_ELIGIBLE"


def test_someone_short_of_the_minimum_keeps_paying_after_retirement() -> None:
    # 168 months by the end of 2025 and none of 2026 yet: 12 short at retirement.
    held = held_through(Month(2025, 12), 168)
    opened = open_months(RETIRES_NOV_2026, DEC_15, BOOK, held)
    assert opened == month_range(Month(2026, 1), Month(2026, 12))
    check_months(RETIRES_NOV_2026, [Month(2026, 12)], False, DEC_15, BOOK, held, set())


def test_the_extension_is_as_long_as_the_shortfall_and_paying_it_does_not_shrink_it() -> None:
    # Born 1966-01-10: retires 2026-05; 178 months held through May, so 2 months short.
    person = PayerFacts(date(1966, 1, 10), Sex.MALE, Month(2026, 1), True)
    held = held_through(Month(2026, 5), 178)
    assert open_months(person, DEC_15, BOOK, held) == [Month(2026, 6), Month(2026, 7)]
    # June paid: July stays open, August never was.
    assert open_months(person, DEC_15, BOOK, held | {Month(2026, 6)}) == [Month(2026, 7)]
    with pytest.raises(DomainError) as refused:
        check_months(person, [Month(2026, 8)], False, DEC_15, BOOK, held, set())
    assert refused.value.code == "NOT_ELIGIBLE"


def test_a_womans_registered_original_age_moves_her_retirement() -> None:
    # Born 1976-07-01: at original age 50 she retires 2027-05; at 55 in 2033-03.
    fifty = PayerFacts(date(1976, 7, 1), Sex.FEMALE, Month(2026, 1), True, 50)
    assert contribution_years(fifty, DEC_15, set()).retirement_month == Month(2027, 5)
    fifty_five = PayerFacts(date(1976, 7, 1), Sex.FEMALE, Month(2026, 1), True)
    retirement = contribution_years(fifty_five, DEC_15, set()).retirement_month
    assert retirement == Month(2033, 3)


@pytest.mark.parametrize(
    ("year", "months"),
    [(2026, 180), (2029, 180), (2030, 186), (2031, 192), (2038, 234), (2039, 240), (2045, 240)],
)
def test_the_minimum_rises_six_months_a_year_from_2030_to_20_years(year: int, months: int) -> None:
    assert minimum_contribution_months(year) == months


def test_the_counter_uses_the_minimum_in_force_at_retirement_or_today() -> None:
    counted = contribution_years(RETIRES_NOV_2026, DEC_15, held_through(RETIREMENT, 100))
    assert (counted.months, counted.minimum_months, counted.short_months) == (100, 180, 80)
    late = PayerFacts(date(1980, 6, 1), Sex.MALE, Month(2026, 1), True)  # retires 2043-06
    assert contribution_years(late, DEC_15, set()).minimum_months == 240
    unknown = PayerFacts(None, None, Month(2026, 1), True)
    assert contribution_years(unknown, DEC_15, set()).minimum_months == 180
