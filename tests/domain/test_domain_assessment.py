"""Assessment: per-month amounts by the month's year policy, interest and totals."""

from datetime import date
from typing import Any

import pytest

from domain.assessment import Assessment, AssessmentLine, assess
from domain.errors import DomainError
from domain.months import Month, month_range
from domain.policy import PolicyBook, load_policy_file, parse_pension_policy


def with_changes(year: int, **changes: Any) -> PolicyBook:
    policies = load_policy_file()
    doc = policies[year].model_dump(mode="json")
    doc.update(changes)
    policies[year] = parse_pension_policy(doc)
    return PolicyBook(policies)


BOOK = PolicyBook(load_policy_file())


def test_months_at_the_floor_grade():
    result = assess(BOOK, [Month(2024, 1), Month(2024, 2)], 60, date(2024, 3, 5))
    assert result.lines == (
        AssessmentLine(
            month="2024-01", base_fen=436335, rate="0.20", amount_fen=87267, interest_fen=0
        ),
        AssessmentLine(
            month="2024-02", base_fen=436335, rate="0.20", amount_fen=87267, interest_fen=0
        ),
    )
    assert result.total_fen == 174534
    assert result.policy_years == (2024,)
    assert result.provisional is False


def test_half_fen_base_rounds_up_per_month():
    result = assess(BOOK, [Month(2024, 5)], 70, date(2024, 5, 5))
    assert (result.lines[0].base_fen, result.lines[0].amount_fen) == (509058, 101812)


def test_provisional_year_marks_the_assessment():
    result = assess(BOOK, [Month(2025, 1)], 300, date(2025, 1, 5))
    assert result.provisional is True
    assert result.total_fen == 436335


def test_each_month_uses_its_own_years_policy():
    book = with_changes(2025, average_wage_fen=800000, interest_rate_per_annum="0.0")
    result = assess(book, [Month(2024, 12), Month(2025, 1)], 100, date(2025, 1, 10))
    assert [line.base_fen for line in result.lines] == [727225, 800000]
    assert [line.amount_fen for line in result.lines] == [145445, 160000]
    assert result.policy_years == (2024, 2025)
    assert result.provisional is True


def test_prior_year_months_bear_interest_at_that_years_rate():
    book = with_changes(2024, back_payment_prior_years_allowed=True, interest_rate_per_annum="0.06")
    result = assess(book, [Month(2024, 1), Month(2024, 12), Month(2025, 1)], 60, date(2025, 3, 1))
    # 2024-01 is 14 months late: 87267 × 0.06 × 14 / 12 = 6108.69 → 6109.
    # 2024-12 is 3 months late: 87267 × 0.06 × 3 / 12 = 1309.005 → 1309.
    # 2025-01 is this year's: no interest.
    assert [line.interest_fen for line in result.lines] == [6109, 1309, 0]
    assert result.total_fen == 3 * 87267 + 6109 + 1309


def test_no_interest_when_the_rate_is_zero():
    result = assess(BOOK, [Month(2024, 1)], 60, date(2026, 1, 1))
    assert result.lines[0].interest_fen == 0


def test_unknown_grade_is_refused():
    with pytest.raises(DomainError) as info:
        assess(BOOK, [Month(2024, 1)], 65, date(2024, 2, 1))
    assert info.value.code == "GRADE_UNKNOWN"


def test_month_without_policy_is_refused():
    with pytest.raises(DomainError) as info:
        assess(BOOK, [Month(2023, 12)], 60, date(2024, 2, 1))
    assert info.value.code == "POLICY_MISSING"


@pytest.mark.parametrize("selection", [[], [Month(2024, 2), Month(2024, 1)], [Month(2024, 1)] * 2])
def test_empty_unsorted_or_duplicate_months_are_refused(selection):
    with pytest.raises(DomainError) as info:
        assess(BOOK, selection, 60, date(2024, 3, 1))
    assert info.value.code == "INVALID_MONTH"


def test_assessment_round_trips_through_json():
    result = assess(BOOK, month_range(Month(2024, 1), Month(2024, 12)), 150, date(2024, 12, 1))
    assert result.total_fen == 12 * 218168
    assert Assessment.model_validate_json(result.model_dump_json()) == result
    assert result.model_dump(mode="json")["lines"][0]["rate"] == "0.20"


def test_assessment_is_immutable():
    result = assess(BOOK, [Month(2024, 1)], 60, date(2024, 2, 1))
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen
        result.total_fen = 0  # type: ignore[misc]
