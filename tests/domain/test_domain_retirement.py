"""Statutory retirement month after the 2025 reform, and ages."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.months import Month
from domain.retirement import age_on, first_month_of_age, statutory_retirement_month
from domain.vocabulary import Sex

MALE, FEMALE = Sex.MALE, Sex.FEMALE


@pytest.mark.parametrize(
    ("birth", "sex", "women_age", "expected"),
    [
        (date(1964, 12, 15), MALE, 55, Month(2024, 12)),  # retired before the reform: unchanged
        (date(1965, 1, 1), MALE, 55, Month(2025, 2)),  # 60 years 1 month
        (date(1965, 4, 30), MALE, 55, Month(2025, 5)),
        (date(1965, 5, 3), MALE, 55, Month(2025, 7)),  # 60 years 2 months
        (date(1976, 1, 1), MALE, 55, Month(2038, 11)),  # index 132 → 34 months
        (date(1976, 8, 1), MALE, 55, Month(2039, 7)),  # 62 years 11 months
        (date(1976, 9, 1), MALE, 55, Month(2039, 9)),  # 63: the cap
        (date(1980, 6, 1), MALE, 55, Month(2043, 6)),
        (date(1969, 12, 1), FEMALE, 55, Month(2024, 12)),
        (date(1970, 1, 1), FEMALE, 55, Month(2025, 2)),
        (date(1981, 9, 1), FEMALE, 55, Month(2039, 9)),  # 58: the cap
        (date(1974, 12, 1), FEMALE, 50, Month(2024, 12)),
        (date(1975, 1, 1), FEMALE, 50, Month(2025, 2)),
        (date(1975, 3, 1), FEMALE, 50, Month(2025, 5)),  # index 2 → 2 months
        (date(1984, 12, 1), FEMALE, 50, Month(2039, 12)),  # 55: the cap
        (date(1990, 1, 1), FEMALE, 50, Month(2045, 1)),
    ],
)
def test_statutory_retirement_month(birth, sex, women_age, expected):
    assert statutory_retirement_month(birth, sex, women_age) == expected


def test_women_original_age_defaults_to_55():
    assert statutory_retirement_month(date(1970, 1, 1), FEMALE) == Month(2025, 2)


def test_unsupported_women_original_age_is_refused():
    with pytest.raises(ValueError):
        statutory_retirement_month(date(1970, 1, 1), FEMALE, 52)


def test_women_original_age_does_not_change_men():
    # Original 2030-01 is 60 months into the reform: 60 // 4 + 1 = 16 months later.
    assert statutory_retirement_month(date(1970, 1, 1), MALE, 50) == Month(2031, 5)
    assert statutory_retirement_month(date(1970, 1, 1), MALE, 55) == Month(2031, 5)


# (sex, women's original age) → (minimum, maximum) retirement age in months.
SETTINGS = {
    (MALE, 55): (60 * 12, 63 * 12),
    (FEMALE, 55): (55 * 12, 58 * 12),
    (FEMALE, 50): (50 * 12, 55 * 12),
}
births = st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31))


@settings(max_examples=200)
@given(st.sampled_from(sorted(SETTINGS)), births, births)
def test_retirement_never_comes_earlier_for_someone_born_later(setting, a, b):
    sex, women_age = setting
    earlier, later = min(a, b), max(a, b)
    assert statutory_retirement_month(earlier, sex, women_age) <= statutory_retirement_month(
        later, sex, women_age
    )


@settings(max_examples=200)
@given(st.sampled_from(sorted(SETTINGS)), births)
def test_retirement_age_stays_between_original_and_new_age(setting, birth):
    sex, women_age = setting
    low, high = SETTINGS[setting]
    months = Month.from_date(birth).months_until(statutory_retirement_month(birth, sex, women_age))
    assert low <= months <= high
    if birth >= date(1985, 1, 1):
        assert months == high  # everyone born this late has reached the cap


def test_age_counts_completed_years():
    assert age_on(date(1990, 5, 10), date(2024, 5, 9)) == 33
    assert age_on(date(1990, 5, 10), date(2024, 5, 10)) == 34


def test_leap_day_births_age_on_first_of_march_in_common_years():
    assert age_on(date(2008, 2, 29), date(2024, 2, 29)) == 16
    assert age_on(date(2008, 2, 29), date(2025, 2, 28)) == 16
    assert age_on(date(2008, 2, 29), date(2025, 3, 1)) == 17
    assert first_month_of_age(date(2008, 2, 29), 16) == Month(2024, 2)
    assert first_month_of_age(date(2008, 2, 29), 17) == Month(2025, 3)


def test_first_month_of_age():
    assert first_month_of_age(date(2008, 7, 31), 16) == Month(2024, 7)


@settings(max_examples=100)
@given(births, st.integers(0, 80))
def test_person_has_the_age_on_the_first_day_after_that_month_starts(birth, years):
    month = first_month_of_age(birth, years)
    assert age_on(birth, month.last_day()) >= years
    assert age_on(birth, month.prev().last_day()) < years
