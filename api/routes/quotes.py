"""POST /api/v1/quotes: the amount due (应缴费额确认) for chosen months at a grade."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import CurrentPerson
from api.state import State
from domain.assessment import assess
from domain.eligibility import check_months
from domain.errors import MONTH_IN_FLIGHT, NOT_REGISTERED, DomainError
from domain.months import Month
from domain.vocabulary import Insurance
from services.errors import month_in_flight
from services.payer_facts import held_months, payer_facts
from services.people import MAX_ID_TEXT, resolve_payer
from services.timefmt import LocalDateTime, utc_now
from storage import quotes
from storage.policy_book import load_policy_book

router = APIRouter(prefix="/api/v1", tags=["payer"])

MAX_MONTHS = 120


class QuoteIn(BaseModel):
    payer_ref: str = Field(default="me", max_length=MAX_ID_TEXT)
    insurance: Insurance = Insurance.PENSION
    months: list[str] = Field(min_length=1, max_length=MAX_MONTHS)
    back_payment: bool = False
    grade: int


class QuoteLineOut(BaseModel):
    month: str
    base_fen: int
    rate: str
    amount_fen: int
    interest_fen: int


class QuoteOut(BaseModel):
    quote_id: str
    payer_ref: str
    insurance: str
    months: list[str]
    grade: int
    back_payment: bool
    lines: list[QuoteLineOut]
    total_fen: int
    expires_at: LocalDateTime
    provisional: bool


@router.post("/quotes", status_code=201, response_model=QuoteOut)
async def create_quote(body: QuoteIn, state: State, me: CurrentPerson) -> QuoteOut:
    """201 with the lines; 422 MONTH_NOT_OPEN / MONTH_ALREADY_PAID / NOT_ELIGIBLE / GRADE_UNKNOWN;
    409 MONTH_IN_FLIGHT with the contribution holding the month."""
    today = state.today()
    months = sorted(Month.parse(m) for m in body.months)
    # Reads first, in a transaction of their own, so the write transaction below is short. The
    # quote is advisory either way: the workflow checks and reserves the months when it starts.
    async with state.sessions() as db:
        person = await resolve_payer(db, body.payer_ref, me)
        facts = await payer_facts(db, person, body.insurance)
        if facts is None:
            raise DomainError.of(NOT_REGISTERED)
        book = await load_policy_book(db)
        held = await held_months(db, person, body.insurance)
    try:
        check_months(facts, months, body.back_payment, today, book, held.paid, set(held.in_flight))
    except DomainError as err:
        if err.code == MONTH_IN_FLIGHT:
            holder = next((held.in_flight[m] for m in months if m in held.in_flight), None)
            raise month_in_flight(holder) from None
        raise
    assessment = assess(book, months, body.grade, today)
    now = utc_now()
    lines = [line.model_dump() for line in assessment.lines]
    async with state.sessions.begin() as db:
        quote = await quotes.add_quote(
            db,
            person_id=person.id,
            requested_by_person_id=me.id,
            insurance=body.insurance,
            months=[str(m) for m in months],
            grade=body.grade,
            back_payment=body.back_payment,
            lines=lines,
            total_fen=assessment.total_fen,
            created_at=now,
            expires_at=now + timedelta(minutes=state.settings.quote_ttl_minutes),
        )
    return QuoteOut(
        quote_id=quote.id,
        payer_ref=person.payer_ref,
        insurance=body.insurance.value,
        months=quote.months,
        grade=quote.grade,
        back_payment=quote.back_payment,
        lines=[QuoteLineOut(**line) for line in lines],
        total_fen=quote.total_fen,
        expires_at=quote.expires_at,
        provisional=assessment.provisional,
    )
