"""Yearly policies: the shipped Guizhou file, validation, grade amounts and the policy book."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.policy import (
    GradeLine,
    Policy,
    PolicyBook,
    load_policy_file,
    parse_pension_policy,
    parse_policy,
)
from domain.vocabulary import Insurance


@pytest.fixture(scope="module")
def policies():
    return load_policy_file()


def doc(**changes: Any) -> dict[str, Any]:
    base = load_policy_file()[2024].model_dump(mode="json")
    base.update(changes)
    return base


def test_shipped_file_has_2024_final_and_2025_2026_provisional(policies):
    assert sorted(policies) == [2024, 2025, 2026]
    assert not policies[2024].provisional
    assert policies[2025].provisional and policies[2026].provisional
    assert "unverified" in policies[2024].source
    assert "operator must replace" in policies[2025].source


def test_guizhou_2024_figures(policies):
    policy = policies[2024]
    assert policy.province == "guizhou"
    assert policy.insurance is Insurance.PENSION
    assert policy.average_wage_fen == 727225
    assert policy.rate == Decimal("0.20")
    assert policy.grades == (60, 70, 80, 90, 100, 150, 200, 250, 300)
    assert (policy.floor_percent, policy.ceiling_percent) == (60, 300)
    assert policy.cutoff_date == date(2024, 12, 25)
    assert policy.back_payment_prior_years_allowed is False
    assert policy.interest_rate_per_annum == 0
    assert policy.treasury_lag_business_days == 3
    assert policy.payment_window_minutes == 15
    assert policy.retirement.min_age == 16


def test_provisional_years_copy_2024_except_year_and_cutoff(policies):
    for year in (2025, 2026):
        policy = policies[year]
        assert policy.cutoff_date == date(year, 12, 25)
        assert policy.grade_lines() == policies[2024].grade_lines()


def test_grade_amounts_at_floor_ceiling_and_a_half_fen(policies):
    policy = policies[2024]
    assert policy.grade_line(60) == GradeLine(60, 60, 436335, 87267)
    assert policy.grade_line(300) == GradeLine(300, 300, 2181675, 436335)
    # 727225 × 70% = 509057.5 → 509058; × 20% = 101811.6 → 101812.
    assert policy.grade_line(70) == GradeLine(70, 70, 509058, 101812)
    assert [line.grade for line in policy.grade_lines()] == list(policy.grades)


@pytest.mark.parametrize("grade", [0, 65, 301, True])
def test_unknown_grade_is_refused(policies, grade):
    with pytest.raises(DomainError) as info:
        policies[2024].grade_line(grade)
    assert info.value.code == "GRADE_UNKNOWN"
    assert info.value.field == "grade"


def test_rate_serialises_as_decimal_string_and_round_trips(policies):
    dumped = policies[2024].model_dump(mode="json")
    assert dumped["rate"] == "0.20"
    assert dumped["interest_rate_per_annum"] == "0.0"
    assert parse_policy(dumped) == policies[2024]
    assert Policy.model_validate_json(policies[2024].model_dump_json()) == policies[2024]


@pytest.mark.parametrize(
    "changes",
    [
        {"grades": [50, 60]},
        {"grades": [60, 310]},
        {"grades": []},
        {"grades": [70, 60]},
        {"grades": [60, 60]},
        {"rate": "1.2"},
        {"rate": "0"},
        {"rate": 0.2},
        {"rate": "abc"},
        {"interest_rate_per_annum": "-0.01"},
        {"floor_percent": 400},
        {"average_wage_fen": 0},
        {"cutoff_date": "2023-12-25"},
        # A January cut-off of the next year would never be applied: refused, not ignored.
        {"cutoff_date": "2025-01-15"},
        {"province": "../etc"},
        {"retirement": {"min_age": 99}},
        {"unexpected": 1},
    ],
)
def test_bad_policy_document_is_refused(changes):
    with pytest.raises(DomainError) as info:
        parse_policy(doc(**changes))
    assert info.value.code == "INVALID_POLICY"


def test_refusal_names_the_bad_field():
    with pytest.raises(DomainError) as info:
        parse_policy(doc(rate="abc"))
    assert info.value.field == "rate"


def test_cutoff_on_the_last_day_of_the_year_is_allowed():
    assert parse_pension_policy(doc(cutoff_date="2024-12-31")).cutoff_date == date(2024, 12, 31)


def test_missing_province_file_is_policy_missing():
    for province in ("atlantis", "../guizhou", "Guizhou"):
        with pytest.raises(DomainError) as info:
            load_policy_file(province)
        assert info.value.code == "POLICY_MISSING"


def test_book_serves_a_year_and_says_when_it_has_none(policies):
    book = PolicyBook(policies)
    assert book.for_year(2024) is policies[2024]
    assert book.years() == [2024, 2025, 2026]
    assert 2025 in book and 2027 not in book
    assert book.get(2027) is None
    with pytest.raises(DomainError) as info:
        book.for_year(2027)
    assert info.value.code == "POLICY_MISSING"
    assert info.value.message == "该年度缴费标准尚未公布"


def test_operator_replaces_a_provisional_year(policies):
    book = PolicyBook.from_file("guizhou")
    final = parse_policy(
        doc(year=2025, provisional=False, cutoff_date="2025-12-25", average_wage_fen=750000)
    )
    book.replace(final)
    assert book.for_year(2025) is final
    assert book.for_year(2025).grade_line(60).base_fen == 450000
    book.replace(parse_policy(doc(year=2027, cutoff_date="2027-12-25")))
    assert 2027 in book


def test_book_refuses_a_policy_filed_under_another_year(policies):
    with pytest.raises(DomainError):
        PolicyBook({2030: policies[2024]})


@settings(max_examples=200)
@given(
    st.integers(100_000, 5_000_000),
    st.integers(1, 99).map(lambda n: Decimal(n) / 100),
    st.integers(60, 300),
)
def test_monthly_amount_never_more_than_half_a_fen_from_exact(average_wage_fen, rate, percent):
    policy = parse_pension_policy(
        doc(average_wage_fen=average_wage_fen, rate=str(rate), grades=[percent])
    )
    line = policy.grade_line(percent)
    exact_base = Decimal(average_wage_fen) * percent / 100
    assert abs(line.base_fen - exact_base) <= Decimal("0.5")
    assert abs(line.monthly_fen - line.base_fen * rate) <= Decimal("0.5")
    # The base is rounded first (it is printed on its own), so against the fully exact product
    # the error can reach half a fen plus the rate's share of the base's half fen.
    assert abs(line.monthly_fen - exact_base * rate) <= Decimal("0.5") + rate / 2


def test_a_stored_document_with_women_original_age_still_loads_without_it():
    # The age moved to each woman's registration (issue 17): older documents keep the key.
    doc = load_policy_file()[2026].model_dump(mode="json")
    doc["retirement"] = {"women_original_age": 50, "min_age": 16}
    policy = parse_pension_policy(doc)
    assert policy.retirement.model_dump() == {"min_age": 16}
