"""POST /api/v1/quotes: the amount due (应缴费额确认) for chosen months at a grade."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import CurrentPerson
from api.openapi import SIGNED_IN, VALIDATION, errors
from api.state import State
from domain.vocabulary import Insurance
from services.people import MAX_ID_TEXT
from services.quotes import make_quote
from services.timefmt import LocalDateTime

router = APIRouter(prefix="/api/v1", tags=["quotes"])

MAX_MONTHS = 120

# What pricing months can refuse (domain/errors.py codes).
QUOTE_REFUSALS = (
    "INVALID_MONTH",
    "MONTH_NOT_OPEN",
    "YEAR_CLOSED",
    "MONTH_ALREADY_PAID",
    "NOT_ELIGIBLE",
    "NOT_REGISTERED",
    "GRADE_UNKNOWN",
    "POLICY_MISSING",
)


class QuoteIn(BaseModel):
    payer_ref: str = Field(default="me", max_length=MAX_ID_TEXT)
    insurance: Insurance = Insurance.PENSION
    months: list[str] = Field(min_length=1, max_length=MAX_MONTHS)
    back_payment: bool = False
    grade: int = 0  # 城乡居民基本医疗保险 has no grades: omitted or 0


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
    grade: int = 0  # 城乡居民基本医疗保险 has no grades: omitted or 0
    back_payment: bool
    lines: list[QuoteLineOut]
    total_fen: int
    expires_at: LocalDateTime
    provisional: bool


@router.post(
    "/quotes",
    status_code=201,
    response_model=QuoteOut,
    responses=errors(
        VALIDATION,
        SIGNED_IN,
        (404, "PAYER_NOT_FOUND"),
        *((422, code) for code in QUOTE_REFUSALS),
        (409, "MONTH_IN_FLIGHT"),
    ),
)
async def create_quote(body: QuoteIn, state: State, me: CurrentPerson) -> QuoteOut:
    """201 with the lines; 422 MONTH_NOT_OPEN / MONTH_ALREADY_PAID / NOT_ELIGIBLE / GRADE_UNKNOWN;
    409 MONTH_IN_FLIGHT with the contribution holding the month."""
    quoted = await make_quote(
        state, me, body.payer_ref, body.insurance, body.months, body.back_payment, body.grade
    )
    quote = quoted.quote
    return QuoteOut(
        quote_id=quote.id,
        payer_ref=quoted.payer.payer_ref,
        insurance=body.insurance.value,
        months=quote.months,
        grade=quote.grade,
        back_payment=quote.back_payment,
        lines=[QuoteLineOut(**line) for line in quote.lines],
        total_fen=quote.total_fen,
        expires_at=quote.expires_at,
        provisional=quoted.provisional,
    )
