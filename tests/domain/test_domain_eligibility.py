"""Open months, arrears and the checks on a selection of months."""

from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest

from domain.eligibility import (
    PayerFacts,
    arrears,
    check_months,
    open_months,
    prepay_choices,
    prepay_months,
)
from domain.errors import DomainError
from domain.months import Month, month_range
from domain.policy import PolicyBook, load_policy_file, parse_pension_policy
from domain.vocabulary import Sex

TODAY = date(2025, 6, 15)


def m(text: str) -> Month:
    return Month.parse(text)


def months(start: str, end: str) -> list[Month]:
    return month_range(m(start), m(end))


def book(**changes_by_year: dict[str, Any]) -> PolicyBook:
    policies = load_policy_file()
    for year, changes in changes_by_year.items():
        doc = policies[int(year[1:])].model_dump(mode="json")
        doc.update(changes)
        policies[int(year[1:])] = parse_pension_policy(doc)
    return PolicyBook(policies)


def facts(
    birth: date | None = date(1985, 3, 10),
    sex: Sex | None = Sex.MALE,
    start: str = "2020-01",
    active: bool = True,
    women_original_age: int | None = None,
) -> PayerFacts:
    return PayerFacts(birth, sex, m(start), active, women_original_age)


# Months held through the retirement month: enough for the minimum years (15 until 2029).
def full_record(through: str) -> set[Month]:
    return set(month_range(m(through).add(-15 * 12 + 1), m(through)))


BOOK = book()
BACK_2024_ALLOWED = book(y2024={"back_payment_prior_years_allowed": True})


# --- open months -------------------------------------------------------------------------


def test_open_months_are_this_year_up_to_this_month():
    assert open_months(facts(), TODAY, BOOK, set()) == months("2025-01", "2025-06")


def test_taken_months_are_not_open():
    taken = {m("2025-02"), m("2025-06"), m("2024-12")}
    assert open_months(facts(), TODAY, BOOK, taken) == [
        m("2025-01"),
        m("2025-03"),
        m("2025-04"),
        m("2025-05"),
    ]


def test_open_months_start_at_registration():
    assert open_months(facts(start="2025-04"), TODAY, BOOK, set()) == months("2025-04", "2025-06")
    assert open_months(facts(start="2025-07"), TODAY, BOOK, set()) == []


def test_inactive_registration_has_no_open_months():
    assert open_months(facts(active=False), TODAY, BOOK, set()) == []


def test_no_open_months_after_the_year_cutoff():
    assert open_months(facts(), date(2025, 12, 25), BOOK, set()) == months("2025-01", "2025-12")
    assert open_months(facts(), date(2025, 12, 26), BOOK, set()) == []


def test_open_months_start_in_the_month_of_the_sixteenth_birthday():
    person = facts(birth=date(2009, 4, 20))
    assert open_months(person, TODAY, BOOK, set()) == months("2025-04", "2025-06")


def test_open_months_end_with_the_retirement_month():
    # Born 1965-05: retires 2025-07 (60 years 2 months); the month itself is still due.
    person = facts(birth=date(1965, 5, 3), start="2025-01")
    paid = full_record("2024-12")
    assert open_months(person, date(2025, 8, 10), BOOK, paid) == months("2025-01", "2025-07")


def test_women_retirement_follows_her_registration():
    # Woman born 1975-03: at original age 50 she retires 2025-05; at 55 not before 2030.
    fifty = facts(birth=date(1975, 3, 1), sex=Sex.FEMALE, women_original_age=50, start="2025-01")
    paid = full_record("2024-12")
    assert open_months(fifty, TODAY, BOOK, paid) == months("2025-01", "2025-05")
    fifty_five = facts(birth=date(1975, 3, 1), sex=Sex.FEMALE, start="2025-01")
    assert open_months(fifty_five, TODAY, BOOK, paid) == months("2025-01", "2025-06")


def test_unknown_birth_date_and_sex_skip_the_age_limits():
    person = facts(birth=None, sex=None)
    assert open_months(person, TODAY, BOOK, set()) == months("2025-01", "2025-06")


def test_year_without_policy_is_policy_missing():
    with pytest.raises(DomainError) as info:
        open_months(facts(), date(2027, 3, 1), BOOK, set())
    assert info.value.code == "POLICY_MISSING"


# --- arrears -----------------------------------------------------------------------------


def test_arrears_are_this_years_months_before_this_month():
    assert arrears(facts(), TODAY, BOOK, {m("2025-03")}) == [
        m("2025-01"),
        m("2025-02"),
        m("2025-04"),
        m("2025-05"),
    ]


def test_arrears_include_prior_years_only_where_the_policy_allows():
    # 2023 has no policy at all, 2024 allows back payment.
    owed = arrears(facts(start="2023-03"), TODAY, BACK_2024_ALLOWED, set())
    assert owed == months("2024-01", "2025-05")


def test_arrears_start_at_registration():
    assert arrears(facts(start="2025-03"), TODAY, BOOK, set()) == months("2025-03", "2025-05")


def test_no_arrears_in_january_when_prior_years_are_closed():
    assert arrears(facts(), date(2025, 1, 10), BOOK, set()) == []


def test_inactive_registration_owes_nothing_payable():
    assert arrears(facts(active=False), TODAY, BOOK, set()) == []


def test_arrears_stop_with_the_retirement_month_once_the_minimum_is_reached():
    # Born 1965-01: retires 2025-02.
    person = facts(birth=date(1965, 1, 20), start="2025-01")
    assert arrears(person, TODAY, BOOK, full_record("2024-12")) == months("2025-01", "2025-02")


# --- check_months ------------------------------------------------------------------------


def check(
    selection: list[Month],
    back_payment: bool = False,
    person: PayerFacts | None = None,
    paid: Iterable[Month] = (),
    in_flight: Iterable[Month] = (),
    policies: PolicyBook = BOOK,
) -> None:
    check_months(
        person or facts(),
        selection,
        back_payment,
        TODAY,
        policies,
        set(paid),
        set(in_flight),
    )


def refused_with(code: str, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as info:
        check(*args, **kwargs)
    assert info.value.code == code
    return info.value


def test_open_months_pass_the_check():
    check(months("2025-04", "2025-06"))
    check(months("2025-01", "2025-05"), back_payment=True)
    check(months("2024-11", "2025-02"), back_payment=True, policies=BACK_2024_ALLOWED)


@pytest.mark.parametrize(
    "selection",
    [[], [Month(2025, 1), Month(2025, 1)], [Month(2025, 2), Month(2025, 1)]],
)
def test_empty_duplicate_or_unsorted_selection_is_invalid(selection):
    assert refused_with("INVALID_MONTH", selection).field == "months"


def test_paid_month_is_refused_as_already_paid():
    refused_with("MONTH_ALREADY_PAID", months("2025-01", "2025-02"), paid=[m("2025-02")])


def test_month_in_flight_is_refused():
    refused_with("MONTH_IN_FLIGHT", [m("2025-03")], in_flight=[m("2025-03")])


def test_inactive_registration_is_not_eligible():
    error = refused_with("NOT_ELIGIBLE", [m("2025-03")], person=facts(active=False))
    assert error.message == "不符合缴费条件"


def test_month_before_sixteenth_birthday_is_not_eligible():
    refused_with("NOT_ELIGIBLE", [m("2025-03")], person=facts(birth=date(2009, 4, 20)))


def test_month_after_retirement_is_not_eligible_once_the_minimum_is_reached():
    person = facts(birth=date(1965, 1, 20), start="2025-01")
    paid = full_record("2024-12")
    refused_with("NOT_ELIGIBLE", [m("2025-03")], person=person, paid=paid)
    check([m("2025-02")], person=person, paid=paid)


def test_unknown_age_skips_the_age_checks():
    check([m("2025-03")], person=facts(birth=None, sex=None))


def test_next_years_month_is_not_open():
    error = refused_with("MONTH_NOT_OPEN", [m("2026-01")])
    assert error.message == "所选费款所属期不可缴费"


def test_rest_of_the_year_may_be_prepaid_as_a_normal_payment():
    check(months("2025-06", "2025-12"))
    refused_with("MONTH_NOT_OPEN", [m("2025-07")], back_payment=True)


def test_prior_year_month_is_not_open_for_normal_payment():
    refused_with("MONTH_NOT_OPEN", [m("2024-12")], policies=BACK_2024_ALLOWED)


def test_current_month_is_not_a_back_payment():
    refused_with("MONTH_NOT_OPEN", [m("2025-06")], back_payment=True)


def test_prior_year_back_payment_refused_unless_allowed():
    refused_with("MONTH_NOT_OPEN", [m("2024-12")], back_payment=True)


def test_month_before_registration_is_not_open():
    refused_with("MONTH_NOT_OPEN", [m("2025-02")], person=facts(start="2025-04"))


# --- prepayment and the cut-off, at the edges of the year ---------------------------------

CUTOFF = date(2025, 12, 25)  # the shipped 2025 policy's cut-off
CLOSED_2025 = book(y2025={"back_payment_prior_years_allowed": True})


def test_prepay_months_are_the_rest_of_this_year():
    assert prepay_months(facts(), TODAY, BOOK, {m("2025-09")}) == [
        m("2025-07"),
        m("2025-08"),
        m("2025-10"),
        m("2025-11"),
        m("2025-12"),
    ]


def test_prepay_months_start_at_a_later_registration_and_stop_before_retirement():
    assert prepay_months(facts(start="2025-10"), TODAY, BOOK, set()) == months("2025-10", "2025-12")
    # Born 1965-01: retires 2025-02 (see the arrears above); with the minimum years held,
    # nothing to pay ahead; short of them, the months ahead stay open.
    retired = facts(birth=date(1965, 1, 20))
    assert prepay_months(retired, TODAY, BOOK, full_record("2025-02")) == []
    assert prepay_months(retired, TODAY, BOOK, set()) != []


def test_prepay_choices_reach_the_end_of_each_period():
    payable = set(months("2025-05", "2025-12"))
    choices = prepay_choices(date(2025, 5, 3), payable)
    assert choices == {
        "month": [m("2025-05")],
        "quarter": months("2025-05", "2025-06"),
        "half_year": months("2025-05", "2025-06"),
        "year": months("2025-05", "2025-12"),
    }
    assert prepay_choices(date(2025, 8, 1), set(months("2025-08", "2025-12")))["quarter"] == (
        months("2025-08", "2025-09")
    )


def test_nothing_to_prepay_in_december():
    assert prepay_months(facts(), date(2025, 12, 1), BOOK, set()) == []


def test_on_the_cutoff_day_every_month_of_the_year_is_still_payable():
    assert open_months(facts(), CUTOFF, BOOK, set()) == months("2025-01", "2025-12")
    assert arrears(facts(), CUTOFF, BOOK, set()) == months("2025-01", "2025-11")
    check_months(facts(), [m("2025-12")], False, CUTOFF, BOOK, set(), set())
    check_months(facts(), [m("2025-03")], True, CUTOFF, BOOK, set(), set())


@pytest.mark.parametrize("today", [date(2025, 12, 26), date(2025, 12, 31)])
def test_after_the_cutoff_nothing_of_the_year_is_payable_online(today):
    assert open_months(facts(), today, BOOK, set()) == []
    assert prepay_months(facts(), today, BOOK, set()) == []
    assert arrears(facts(), today, BOOK, set()) == []
    for selection, back in (([m("2025-12")], False), ([m("2025-03")], True)):
        with pytest.raises(DomainError) as info:
            check_months(facts(), selection, back, today, BOOK, set(), set())
        assert info.value.code == "YEAR_CLOSED"
        assert "办税服务厅" in info.value.message


def test_on_the_first_of_january_the_new_year_opens_and_last_year_follows_its_policy():
    new_year = date(2026, 1, 1)
    assert open_months(facts(), new_year, BOOK, set()) == [m("2026-01")]
    assert prepay_months(facts(), new_year, BOOK, set()) == months("2026-02", "2026-12")
    # 2025 closed for back payment in the shipped policy; a policy allowing it reopens it.
    assert arrears(facts(), new_year, BOOK, set()) == []
    assert arrears(facts(), new_year, CLOSED_2025, set()) == months("2025-01", "2025-12")
