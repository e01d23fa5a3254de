"""Business days: operator tables, chinese_calendar, then the flagged provisional rule."""

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import BusinessCalendar, BusinessDate, DaySource


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


def test_2027_is_provisional_and_says_so(cal):
    assert not cal.has_official_data(2027)
    assert cal.source_of(2027) is DaySource.PROVISIONAL
    # 2027-09-30 is a Thursday; National Day Oct 1–3 and the observed Oct 4–5 are off.
    assert cal.add_business_days(date(2027, 9, 30), 3) == BusinessDate(date(2027, 10, 8), True)


def test_the_last_day_of_2026_reaches_into_provisional_2027(cal):
    result = cal.add_business_days(date(2026, 12, 31), 3)
    # 元旦 Fri Jan 1, the weekend, then Jan 4, 5, 6; flagged since 2027 is not official yet.
    assert result == BusinessDate(date(2027, 1, 6), True)


def test_three_business_days_after_2027_02_04_skip_the_spring_festival(cal):
    # 除夕 Feb 5 to the observed Feb 10 are off: Feb 11, 12 and Mon Feb 15.
    assert cal.add_business_days(date(2027, 2, 4), 3) == BusinessDate(date(2027, 2, 15), True)


def test_days_within_a_covered_year_are_not_flagged(cal):
    assert cal.add_business_days(date(2026, 12, 1), 3).provisional is False


def test_provisional_rule_knows_the_lunar_festivals_of_2027(cal):
    for d in [date(2027, 2, 8), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)]:
        assert d.weekday() < 5
        assert not cal.is_business_day(d)
    assert not cal.is_business_day(date(2027, 10, 5))
    assert cal.is_business_day(date(2027, 10, 8))


def test_the_provisional_year_lists_its_days_and_says_its_workdays_are_unknown(cal):
    year = cal.year(2027)
    assert year.source is DaySource.PROVISIONAL
    assert {date(2027, 2, 8), date(2027, 10, 5)} <= set(year.holidays)
    assert year.workdays == ()
    assert year.workdays_known is False


def test_a_library_year_lists_its_adjusted_working_days(cal):
    year = cal.year(2026)
    assert year.source is DaySource.LIBRARY
    assert date(2026, 10, 10) in year.workdays
    assert date(2026, 10, 7) in year.holidays
    assert year.workdays_known is True


def test_operator_table_overrides_and_ends_the_fallback(cal):
    # A made-up 2027 National Day: Oct 1–7 off, Sat Oct 9 worked.
    holidays = {date(2027, 10, d) for d in range(1, 8)}
    cal.load_year_table(2027, holidays, {date(2027, 10, 9)})
    assert cal.has_official_data(2027)
    result = cal.add_business_days(date(2027, 9, 30), 3)
    assert result == BusinessDate(date(2027, 10, 11), False)  # Oct 8, Sat 9, Mon 11
    assert cal.year(2027).source is DaySource.OFFICIAL
    assert cal.year(2027).workdays == (date(2027, 10, 9),)


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
    assert result.provisional is False
