"""应缴费额确认: the amount due for chosen months at a grade, checked and kept as a quote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.assessment import assess
from domain.eligibility import check_months
from domain.errors import MONTH_IN_FLIGHT, NOT_REGISTERED, DomainError
from domain.months import Month
from domain.vocabulary import Insurance
from services.context import AppState
from services.errors import month_in_flight
from services.limits import quote_allowed
from services.payer_facts import held_months, payer_facts, started_by_others
from services.people import resolve_payer
from services.timefmt import utc_now
from storage import quotes
from storage.models import Person, Quote
from storage.policy_book import load_policy_book


@dataclass(frozen=True)
class Quoted:
    quote: Quote
    payer: Person
    provisional: bool


async def make_quote(
    state: AppState,
    me: Person,
    payer_ref: str,
    insurance: Insurance,
    month_texts: list[str],
    back_payment: bool,
    grade: int,
) -> Quoted:
    """The quote; 422 MONTH_NOT_OPEN / MONTH_ALREADY_PAID / NOT_ELIGIBLE / GRADE_UNKNOWN;
    409 MONTH_IN_FLIGHT with the contribution holding the month."""
    today = state.today()
    months = sorted(Month.parse(m) for m in month_texts)
    if insurance == Insurance.RESIDENT_MEDICAL:
        # No grades: one amount per person per coverage year; 0 is recorded, never priced.
        grade = 0
    # Reads first, in a transaction of their own, so the write transaction below is short. The
    # quote is advisory either way: the workflow checks and reserves the months when it starts.
    async with state.sessions() as db:
        person = await resolve_payer(db, payer_ref, me)
        facts = await payer_facts(db, person, insurance)
        if facts is None:
            raise DomainError.of(NOT_REGISTERED)
        book = await load_policy_book(db)
        held = await held_months(db, person, insurance)
        in_flight = set(held.in_flight)
        if person.id == me.id:
            # Months someone else holds with an unpaid order are the person's to take back.
            others = await started_by_others(db, person, insurance, [str(m) for m in months])
            yielding = {c.id for c in others}
            in_flight = {m for m, holder in held.in_flight.items() if holder not in yielding}
    await quote_allowed(state, me, person)
    try:
        check_months(facts, months, back_payment, today, book, held.paid, in_flight, insurance)
    except DomainError as err:
        if err.code == MONTH_IN_FLIGHT:
            raise month_in_flight(held.holder_of(months)) from None
        raise
    assessment = assess(book, months, grade, today, insurance)
    now = utc_now()
    async with state.sessions.begin() as db:
        quote = await quotes.add_quote(
            db,
            person_id=person.id,
            requested_by_person_id=me.id,
            insurance=insurance,
            months=[str(m) for m in months],
            grade=grade,
            back_payment=back_payment,
            lines=[line.model_dump() for line in assessment.lines],
            total_fen=assessment.total_fen,
            created_at=now,
            expires_at=now + timedelta(minutes=state.settings.quote_ttl_minutes),
        )
    return Quoted(quote=quote, payer=person, provisional=assessment.provisional)
