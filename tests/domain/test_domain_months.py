"""Month values: strict parsing, arithmetic, days and ranges."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.months import Month, month_range, parse_months

months = st.builds(Month, st.integers(1900, 2200), st.integers(1, 12))


def test_parse_and_format_round_trip():
    assert Month.parse("2024-03") == Month(2024, 3)
    assert str(Month(2024, 3)) == "2024-03"


@pytest.mark.parametrize(
    "text",
    [
        "2024-3",
        "2024-13",
        "2024-00",
        "24-03",
        "2024/03",
        " 2024-03",
        "2024-03-01",
        "２０２４-03",
        "",
    ],
)
def test_malformed_month_is_refused(text):
    with pytest.raises(DomainError) as info:
        Month.parse(text)
    assert info.value.code == "INVALID_MONTH"
    assert info.value.field == "months"


def test_month_out_of_range_cannot_be_built():
    with pytest.raises(DomainError):
        Month(2024, 13)


def test_months_order_chronologically():
    assert Month(2023, 12) < Month(2024, 1) < Month(2024, 2)
    assert sorted([Month(2024, 2), Month(2023, 12)]) == [Month(2023, 12), Month(2024, 2)]


def test_add_crosses_year_boundaries_both_ways():
    assert Month(2024, 12).add(1) == Month(2025, 1)
    assert Month(2024, 1).add(-1) == Month(2023, 12)
    assert Month(2024, 1).add(-13) == Month(2022, 12)
    assert Month(2024, 11).next() == Month(2024, 12)
    assert Month(2024, 1).prev() == Month(2023, 12)


def test_first_and_last_day_know_leap_years():
    assert Month(2024, 2).first_day() == date(2024, 2, 1)
    assert Month(2024, 2).last_day() == date(2024, 2, 29)
    assert Month(2023, 2).last_day() == date(2023, 2, 28)
    assert Month(2024, 12).last_day() == date(2024, 12, 31)


def test_from_date():
    assert Month.from_date(date(2026, 10, 31)) == Month(2026, 10)


def test_months_until_is_signed_difference():
    assert Month(2024, 1).months_until(Month(2024, 3)) == 2
    assert Month(2024, 3).months_until(Month(2023, 12)) == -3


def test_month_range_is_inclusive_and_empty_when_reversed():
    assert month_range(Month(2024, 11), Month(2025, 2)) == [
        Month(2024, 11),
        Month(2024, 12),
        Month(2025, 1),
        Month(2025, 2),
    ]
    assert month_range(Month(2024, 5), Month(2024, 5)) == [Month(2024, 5)]
    assert month_range(Month(2024, 5), Month(2024, 4)) == []


def test_parse_months_keeps_order():
    assert parse_months(["2024-02", "2024-01"]) == [Month(2024, 2), Month(2024, 1)]


@settings(max_examples=200)
@given(months, st.integers(-1200, 1200))
def test_adding_then_subtracting_is_identity(month, n):
    assert month.add(n).add(-n) == month
    assert month.months_until(month.add(n)) == n


@settings(max_examples=100)
@given(months)
def test_string_form_parses_back(month):
    assert Month.parse(str(month)) == month


@settings(max_examples=100)
@given(months, months)
def test_range_length_matches_difference(a, b):
    assert len(month_range(a, b)) == max(0, a.months_until(b) + 1)
