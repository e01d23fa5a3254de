"""城乡居民基本医疗保险: its policy, the book by (insurance, year), coverage years, pricing."""

from datetime import date
from typing import Any

import pytest

from domain.assessment import assess
from domain.eligibility import PayerFacts, check_months, coverage_years_open
from domain.errors import DomainError
from domain.months import Month
from domain.policy import (
    Policy,
    PolicyBook,
    ResidentMedicalPolicy,
    load_policy_set,
    parse_pension_policy,
    parse_policy,
)
from domain.vocabulary import Insurance, Sex

MEDICAL = Insurance.RESIDENT_MEDICAL
BOOK = PolicyBook.from_file()
Y2027 = Month(2027, 1)


def doc(**changes: Any) -> dict[str, Any]:
    base = BOOK.medical(2027).model_dump(mode="json")
    return {**base, **changes}


def facts(start: str = "2026-01", active: bool = True) -> PayerFacts:
    return PayerFacts(date(1990, 5, 1), Sex.FEMALE, Month.parse(start), active)


def test_the_shipped_file_holds_both_insurances_keyed_by_insurance_and_year():
    keys = set(load_policy_set())
    assert (Insurance.PENSION, 2026) in keys
    assert (MEDICAL, 2027) in keys
    assert isinstance(BOOK.for_year(2026), Policy)
    assert isinstance(BOOK.medical(2027), ResidentMedicalPolicy)
    assert BOOK.years(MEDICAL) == [2026, 2027]
    # The pension book does not answer for the medical years and the reverse.
    with pytest.raises(DomainError) as info:
        BOOK.medical(2024)
    assert info.value.code == "POLICY_MISSING"


def test_every_shipped_figure_names_its_source_and_provisional_ones_say_so():
    for policy in load_policy_set().values():
        assert policy.source.strip()
        if isinstance(policy, ResidentMedicalPolicy):
            assert policy.provisional
            assert "Provisional" in policy.source


def test_the_medical_policy_names_amount_period_and_coverage_year():
    policy = BOOK.medical(2027)
    assert policy.amount_per_person_fen == 40000
    assert (policy.collection_start, policy.collection_end) == (
        date(2026, 9, 1),
        date(2026, 12, 31),
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_per_person_fen": 0},
        {"collection_start": "2027-01-01", "collection_end": "2026-12-31"},
        {"collection_end": "2028-01-10"},
        {"collection_start": "2025-09-01"},
        {"source": ""},
        {"grades": [60]},
    ],
)
def test_bad_medical_policies_are_refused(changes):
    with pytest.raises(DomainError) as info:
        parse_policy(doc(**changes))
    assert info.value.code == "INVALID_POLICY"


def test_a_pension_slot_refuses_a_medical_document():
    with pytest.raises(DomainError) as info:
        parse_pension_policy(doc())
    assert (info.value.code, info.value.field) == ("INVALID_POLICY", "insurance")


def test_replacing_a_medical_year_leaves_the_pension_year_alone():
    book = PolicyBook.from_file()
    pension = book.for_year(2027) if 2027 in book else None
    book.replace(parse_policy(doc(amount_per_person_fen=42000, provisional=False)))
    assert book.medical(2027).amount_per_person_fen == 42000
    assert (book.for_year(2027) if 2027 in book else None) == pension


def test_a_coverage_year_is_one_line_at_the_amount_per_person_without_grade():
    result = assess(BOOK, [Y2027], 0, date(2026, 10, 1), MEDICAL)
    assert [(line.month, line.amount_fen, line.interest_fen) for line in result.lines] == [
        ("2027-01", 40000, 0)
    ]
    assert (result.total_fen, result.provisional, result.policy_years) == (40000, True, (2027,))


def test_a_month_other_than_january_is_no_coverage_year():
    with pytest.raises(DomainError) as info:
        assess(BOOK, [Month(2027, 3)], 0, date(2026, 10, 1), MEDICAL)
    assert info.value.code == "INVALID_MONTH"


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 8, 31), []),
        (date(2026, 9, 1), [Y2027]),
        (date(2026, 12, 31), [Y2027]),  # the last day of the period (its cut-off)
        (date(2027, 1, 1), []),
    ],
)
def test_the_coverage_year_is_open_in_its_collection_period_only(today, expected):
    assert coverage_years_open(facts(), today, BOOK, set()) == expected


def test_paid_or_unregistered_coverage_years_are_not_open():
    on = date(2026, 10, 1)
    assert coverage_years_open(facts(), on, BOOK, {Y2027}) == []
    assert coverage_years_open(facts(active=False), on, BOOK, set()) == []
    assert coverage_years_open(facts(start="2028-01"), on, BOOK, set()) == []


def check(selection: list[Month], today: date, back_payment: bool = False) -> None:
    check_months(facts(), selection, back_payment, today, BOOK, set(), set(), MEDICAL)


def test_the_check_accepts_the_open_coverage_year_and_refuses_the_rest():
    check([Y2027], date(2026, 12, 31))
    for selection, today, back, code in [
        ([Y2027], date(2027, 1, 1), False, "YEAR_CLOSED"),
        ([Month(2026, 1)], date(2026, 10, 1), False, "YEAR_CLOSED"),
        ([Y2027], date(2026, 8, 31), False, "MONTH_NOT_OPEN"),
        ([Y2027], date(2026, 10, 1), True, "MONTH_NOT_OPEN"),
        ([Month(2027, 2)], date(2026, 10, 1), False, "INVALID_MONTH"),
    ]:
        with pytest.raises(DomainError) as info:
            check(selection, today, back)
        assert info.value.code == code, (selection, today)
