"""What a payer may pay now: open months, arrears with amounts, grades of this year's policy."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assessment import assess
from domain.eligibility import (
    PayerFacts,
    arrears,
    coverage_years_open,
    open_months,
    prepay_choices,
    prepay_months,
    year_closed,
)
from domain.errors import POLICY_MISSING, DomainError
from domain.months import Month
from domain.policy import PolicyBook, ResidentMedicalPolicy
from domain.vocabulary import Insurance
from services.context import AppState
from services.payer_facts import ContributionYearsOut, contribution_years_out, facts_of, held_months
from services.people import RegistrationOut, registrations_out, resolve_payer
from storage import persons
from storage.models import Person, Registration
from storage.policy_book import load_policy_book


class GradeOut(BaseModel):
    grade: int
    percent: int
    base_fen: int
    monthly_fen: int


class ArrearsMonthOut(BaseModel):
    """A month owed, priced at its year's lowest grade (the payer picks the grade in the quote)."""

    month: str
    grade: int | None
    amount_fen: int | None
    interest_fen: int | None


# Where to go once a year's online payment is over (the manual's wording for offline 办理).
CLOSED_NOTICE = "{year}年度网上缴费已于{cutoff}截止，请前往办税服务厅办理"
MEDICAL_CLOSED_NOTICE = "{year}年度城乡居民医保集中缴费期已于{end}结束，请前往办税服务厅办理"


class PayerOptions(BaseModel):
    payer_ref: str
    insurance: str
    registrations: list[RegistrationOut]
    # Normal payment: this year's months through this month (open_months) and after it
    # (prepay_months, 预缴); back payment: months before this one (arrears).
    open_months: list[str]
    prepay_months: list[str]
    # 预缴 periods ("month", "quarter", "half_year", "year") → the months each pays.
    prepay_choices: dict[str, list[str]]
    arrears: list[ArrearsMonthOut]
    cutoff_date: date
    # True after the year's cut-off: nothing of this year is payable online; notice says where.
    year_closed: bool
    closed_notice: str | None
    grades: list[GradeOut]
    default_grade: int
    policy_year: int
    provisional: bool
    treasury_lag_business_days: int
    # The counter of contribution years (None: not registered for the insurance).
    contribution_years: ContributionYearsOut | None = None
    # 城乡居民基本医疗保险 only: the coverage year (its YYYY-01 is the one "month" to pay), the
    # amount per person and the collection period (cutoff_date is its last day).
    coverage_year: int | None = None
    amount_per_person_fen: int | None = None
    collection_start: date | None = None


def _priced_arrear(book: PolicyBook, month: Month, today: date) -> ArrearsMonthOut:
    policy = book.get(month.year)
    if policy is None:
        return ArrearsMonthOut(month=str(month), grade=None, amount_fen=None, interest_fen=None)
    grade = policy.grades[0]
    try:
        line = assess(book, [month], grade, today).lines[0]
    except DomainError:
        return ArrearsMonthOut(month=str(month), grade=None, amount_fen=None, interest_fen=None)
    return ArrearsMonthOut(
        month=str(month), grade=grade, amount_fen=line.amount_fen, interest_fen=line.interest_fen
    )


async def options_for(
    state: AppState, me: Person, payer_ref: str, insurance: Insurance = Insurance.PENSION
) -> PayerOptions:
    """缴费信息确认 for the signed-in person (`me`) or the payer a PayerRef names."""
    async with state.sessions() as db:
        person = await resolve_payer(db, payer_ref, me)
        return await payer_options(db, person, state.today(), insurance)


def _day(d: date) -> str:
    return f"{d.month}月{d.day}日"


async def payer_options(
    db: AsyncSession, person: Person, today: date, insurance: Insurance = Insurance.PENSION
) -> PayerOptions:
    book = await load_policy_book(db)
    registrations = await persons.list_registrations(db, person.id)
    # The person's registrations are all loaded already: no second query for this insurance's.
    facts = facts_of(person, next((r for r in registrations if r.insurance == insurance), None))
    held = await held_months(db, person, insurance) if facts is not None else None
    taken = held.taken if held is not None else set()
    if insurance == Insurance.RESIDENT_MEDICAL:
        return _medical_options(book, person, registrations, facts, taken, today)
    policy = book.for_year(today.year)  # POLICY_MISSING (422) when the year has none
    opened: list[Month] = []
    ahead: list[Month] = []
    owed: list[Month] = []
    counter = None
    if facts is not None:
        opened = open_months(facts, today, book, taken)
        ahead = prepay_months(facts, today, book, taken)
        owed = arrears(facts, today, book, taken)
        counter = contribution_years_out(facts, today, held.paid) if held is not None else None
    closed = year_closed(policy, today)
    choices = prepay_choices(today, set(opened) | set(ahead))
    return PayerOptions(
        payer_ref=person.payer_ref,
        insurance=insurance.value,
        registrations=registrations_out(registrations),
        open_months=[str(m) for m in opened],
        prepay_months=[str(m) for m in ahead],
        prepay_choices={k: [str(m) for m in v] for k, v in choices.items()},
        cutoff_date=policy.cutoff_date,
        year_closed=closed,
        closed_notice=(
            CLOSED_NOTICE.format(year=policy.year, cutoff=_day(policy.cutoff_date))
            if closed
            else None
        ),
        arrears=[_priced_arrear(book, m, today) for m in owed],
        grades=[GradeOut(**vars(line)) for line in policy.grade_lines()],
        default_grade=policy.grades[0],
        policy_year=policy.year,
        provisional=policy.provisional,
        treasury_lag_business_days=policy.treasury_lag_business_days,
        contribution_years=counter,
    )


def _medical_policy_shown(book: PolicyBook, today: date) -> ResidentMedicalPolicy:
    """The coverage year being collected; else the last one whose period is over; else the
    next one to open. POLICY_MISSING when none is loaded."""
    policies = book.medical_policies()
    started = [p for p in policies if p.collection_start <= today]
    collecting = [p for p in started if p.collecting(today)]
    upcoming = [p for p in policies if p.collection_start > today]
    shown = collecting or started[-1:] or upcoming[:1]
    if not shown:
        raise DomainError.of(POLICY_MISSING)
    return shown[0]


def _medical_options(
    book: PolicyBook,
    person: Person,
    registrations: list[Registration],
    facts: PayerFacts | None,
    taken: Collection[Month],
    today: date,
) -> PayerOptions:
    """城乡居民基本医疗保险: the coverage year open for payment (one line, no grades)."""
    policy = _medical_policy_shown(book, today)
    opened = coverage_years_open(facts, today, book, taken) if facts is not None else []
    closed = today > policy.collection_end
    return PayerOptions(
        payer_ref=person.payer_ref,
        insurance=Insurance.RESIDENT_MEDICAL.value,
        registrations=registrations_out(registrations),
        open_months=[str(m) for m in opened],
        prepay_months=[],
        prepay_choices={},
        cutoff_date=policy.collection_end,
        year_closed=closed,
        closed_notice=(
            MEDICAL_CLOSED_NOTICE.format(year=policy.year, end=_day(policy.collection_end))
            if closed
            else None
        ),
        arrears=[],
        grades=[],
        default_grade=0,
        policy_year=policy.year,
        provisional=policy.provisional,
        treasury_lag_business_days=policy.treasury_lag_business_days,
        coverage_year=policy.year,
        amount_per_person_fen=policy.amount_per_person_fen,
        collection_start=policy.collection_start,
    )
