"""Statutory retirement month of the 2025 reform (渐进式延迟法定退休年龄), ages, minimum years."""

from __future__ import annotations

import calendar
from datetime import date

from domain.months import Month
from domain.vocabulary import Sex

REFORM_START = Month(2025, 1)
MEN_ORIGINAL_AGE = 60
# A woman's original age when her registration does not say (flexible-employment women usually
# count as 55, 原法定退休年龄); 50 applies to some and is registered per person.
DEFAULT_WOMEN_ORIGINAL_AGE = 55

# The minimum contribution years for a monthly pension (最低缴费年限): 15 years, and from 2030
# six months more each year until 20 years (2039).
MINIMUM_YEARS_SOURCE = (
    "全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定（2024-09-13）第二条"
)
_MINIMUM_MONTHS_BEFORE = 15 * 12
_MINIMUM_RISE_FROM_YEAR = 2030
_MINIMUM_RISE_PER_YEAR = 6
_MINIMUM_MONTHS_CAP = 20 * 12

# (months of original retirement per month of delay, maximum delay in months), by original age:
# men 60 and women 55 gain one month every four months up to 3 years (63 / 58); women 50 gain
# one month every two months up to 5 years (55).
_DELAY_RULES: dict[tuple[Sex, int], tuple[int, int]] = {
    (Sex.MALE, 60): (4, 36),
    (Sex.FEMALE, 55): (4, 36),
    (Sex.FEMALE, 50): (2, 60),
}


def original_retirement_month(
    birth_date: date, sex: Sex, women_original_age: int = DEFAULT_WOMEN_ORIGINAL_AGE
) -> Month:
    """Birth month plus the pre-reform retirement age (men 60, women 50 or 55)."""
    age = MEN_ORIGINAL_AGE if sex is Sex.MALE else women_original_age
    if (sex, age) not in _DELAY_RULES:
        raise ValueError("women_original_age must be 50 or 55")
    return Month.from_date(birth_date).add(age * 12)


def statutory_retirement_month(
    birth_date: date, sex: Sex, women_original_age: int = DEFAULT_WOMEN_ORIGINAL_AGE
) -> Month:
    """The month the statutory retirement age is reached; contributions are due through it."""
    sex = Sex(sex)
    original = original_retirement_month(birth_date, sex, women_original_age)
    if original < REFORM_START:
        return original
    step, cap = _DELAY_RULES[(sex, MEN_ORIGINAL_AGE if sex is Sex.MALE else women_original_age)]
    index = REFORM_START.months_until(original)
    # The first original month of each step already gets one month: 2025-01 → +1, 2025-05 → +2.
    return original.add(min(cap, index // step + 1))


def _birthday_in(birth_date: date, year: int) -> date:
    # Someone born on 29 February turns a year older on 1 March in common years.
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return date(year, birth_date.month, birth_date.day)


def age_on(birth_date: date, d: date) -> int:
    """Completed years (周岁) on day d."""
    years = d.year - birth_date.year
    return years if d >= _birthday_in(birth_date, d.year) else years - 1


def first_month_of_age(birth_date: date, years: int) -> Month:
    """The month in which the person turns `years` years old."""
    return Month.from_date(_birthday_in(birth_date, birth_date.year + years))


def minimum_contribution_months(year: int) -> int:
    """The minimum contribution months in force for someone reaching retirement in `year`."""
    rise = max(0, year - _MINIMUM_RISE_FROM_YEAR + 1) * _MINIMUM_RISE_PER_YEAR
    return min(_MINIMUM_MONTHS_CAP, _MINIMUM_MONTHS_BEFORE + rise)
