"""Business days: chinese_calendar where it has data, operator tables, flagged fallback."""

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import BusinessCalendar, BusinessDate


@pytest.fixture
def cal():
    return BusinessCalendar()


def test_chinese_calendar_marks_2026_national_day_as_we_expect():
    # The facts the next test relies on, as chinese_calendar 1.11 states them.
    for day in range(1, 8):
        assert not chinese_calendar.is_workday(date(2026, 10, day))
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # Saturday, adjusted working day
    assert date(2026, 10, 10).weekday() == 5


def test_three_business_days_after_2026_09_30_skip_national_day(cal):
    # Oct 1–7 off; Oct 8 (Thu) and 9 (Fri) work; Oct 10 is a Saturday worked in lieu.
    assert cal.add_business_days(date(2026, 9, 30), 3) == BusinessDate(date(2026, 10, 10), False)


def test_business_days_are_counted_strictly_after_the_start(cal):
    # 2024-06-03 is a Monday.
    assert cal.add_business_days(date(2024, 6, 3), 1).date == date(2024, 6, 4)
    assert cal.add_business_days(date(2024, 6, 7), 1).date == date(2024, 6, 11)  # 06-10 端午


def test_zero_days_is_the_start_or_the_next_business_day(cal):
    assert cal.add_business_days(date(2024, 6, 3), 0).date == date(2024, 6, 3)
    assert cal.add_business_days(date(2026, 10, 3), 0).date == date(2026, 10, 8)


def test_negative_count_is_refused(cal):
    with pytest.raises(ValueError):
        cal.add_business_days(date(2024, 6, 3), -1)


def test_adjusted_working_day_on_weekend_is_business_day(cal):
    assert cal.is_business_day(date(2026, 10, 10))
    assert not cal.is_business_day(date(2026, 10, 1))
    assert not cal.is_business_day(date(2026, 10, 11))


def test_2027_falls_back_and_says_so(cal):
    assert not cal.has_official_data(2027)
    # 2027-09-30 is a Thursday; fallback skips Oct 1–3 and the weekend only.
    result = cal.add_business_days(date(2027, 9, 30), 3)
    assert result == BusinessDate(date(2027, 10, 6), True)


def test_crossing_into_an_uncovered_year_is_flagged(cal):
    result = cal.add_business_days(date(2026, 12, 30), 3)
    assert result.fallback is True
    assert result.date == date(2027, 1, 5)  # Dec 31, (Jan 1 holiday, weekend), Jan 4, Jan 5


def test_days_within_a_covered_year_are_not_flagged(cal):
    assert cal.add_business_days(date(2026, 12, 1), 3).fallback is False


def test_fallback_rule_is_weekends_and_fixed_date_holidays(cal):
    for d in [date(2027, 1, 1), date(2027, 5, 3), date(2027, 10, 1), date(2027, 10, 2)]:
        expected = d.weekday() < 5 and (d.month, d.day) not in {(1, 1), (10, 1), (10, 2)}
        assert cal.is_business_day(d) is expected
    assert not cal.is_business_day(date(2027, 5, 1))  # Saturday anyway
    assert cal.is_business_day(date(2027, 2, 8))  # lunar new year 2027: unknown to the fallback


def test_operator_table_overrides_and_ends_the_fallback(cal):
    # A made-up 2027 National Day: Oct 1–7 off, Sat Oct 9 worked.
    holidays = {date(2027, 10, d) for d in range(1, 8)}
    cal.load_year_table(2027, holidays, {date(2027, 10, 9)})
    assert cal.has_official_data(2027)
    result = cal.add_business_days(date(2027, 9, 30), 3)
    assert result == BusinessDate(date(2027, 10, 11), False)  # Oct 8, Sat 9, Mon 11


def test_operator_table_replaces_a_covered_year_entirely(cal):
    # A loaded table is the whole truth for its year: what it does not list follows the
    # weekday rule, even where chinese_calendar says otherwise.
    cal.load_year_table(2026, {date(2026, 9, 28)}, set())
    assert not cal.is_business_day(date(2026, 9, 28))
    assert cal.is_business_day(date(2026, 10, 1))
    assert not cal.is_business_day(date(2026, 10, 10))


def test_operator_table_with_foreign_or_conflicting_dates_is_refused(cal):
    with pytest.raises(ValueError):
        cal.load_year_table(2027, {date(2026, 10, 1)}, set())
    with pytest.raises(ValueError):
        cal.load_year_table(2027, {date(2027, 10, 9)}, {date(2027, 10, 9)})


@settings(max_examples=100)
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 11, 30)), st.integers(1, 10))
def test_result_is_a_business_day_after_exactly_n_business_days(start, n):
    cal = BusinessCalendar()
    result = cal.add_business_days(start, n)
    assert result.date > start
    assert cal.is_business_day(result.date)
    between = [start + timedelta(days=i) for i in range(1, (result.date - start).days + 1)]
    assert sum(cal.is_business_day(d) for d in between) == n
    assert result.fallback is False
