"""What a payer may pay now: open months, arrears with amounts, grades of this year's policy."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assessment import assess
from domain.eligibility import arrears, open_months, prepay_choices, prepay_months, year_closed
from domain.errors import DomainError
from domain.months import Month
from domain.policy import PolicyBook
from domain.vocabulary import Insurance
from services.context import AppState
from services.payer_facts import facts_of, held_months
from services.people import RegistrationOut, registrations_out, resolve_payer
from storage import persons
from storage.models import Person
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


async def options_for(state: AppState, me: Person, payer_ref: str) -> PayerOptions:
    """缴费信息确认 for the signed-in person (`me`) or the payer a PayerRef names."""
    async with state.sessions() as db:
        person = await resolve_payer(db, payer_ref, me)
        return await payer_options(db, person, state.today())


async def payer_options(
    db: AsyncSession, person: Person, today: date, insurance: Insurance = Insurance.PENSION
) -> PayerOptions:
    book = await load_policy_book(db)
    policy = book.for_year(today.year)  # POLICY_MISSING (422) when the year has none
    registrations = await persons.list_registrations(db, person.id)
    # The person's registrations are all loaded already: no second query for this insurance's.
    facts = facts_of(person, next((r for r in registrations if r.insurance == insurance), None))
    opened: list[Month] = []
    ahead: list[Month] = []
    owed: list[Month] = []
    if facts is not None:
        taken = (await held_months(db, person, insurance)).taken
        opened = open_months(facts, today, book, taken)
        ahead = prepay_months(facts, today, book, taken)
        owed = arrears(facts, today, book, taken)
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
            CLOSED_NOTICE.format(
                year=policy.year, cutoff=f"{policy.cutoff_date.month}月{policy.cutoff_date.day}日"
            )
            if closed
            else None
        ),
        arrears=[_priced_arrear(book, m, today) for m in owed],
        grades=[GradeOut(**vars(line)) for line in policy.grade_lines()],
        default_grade=policy.grades[0],
        policy_year=policy.year,
        provisional=policy.provisional,
        treasury_lag_business_days=policy.treasury_lag_business_days,
    )
