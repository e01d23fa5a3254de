"""The 费款所属期 range of the query pages: from/to months, defaulting to this whole year."""

from __future__ import annotations

from datetime import date

from domain.errors import DomainError
from domain.months import Month
from services.errors import ServiceError

# Ten years: more than any query page needs, few enough to keep a query small.
MAX_SPAN_MONTHS = 120


def _month(text: str, field: str) -> Month:
    try:
        return Month.parse(text)
    except DomainError as err:
        raise ServiceError(422, err.code, err.message, field) from None


def period(from_text: str | None, to_text: str | None, today: date) -> tuple[Month, Month]:
    """(first, last), inclusive; 422 INVALID_MONTH or INVALID_PERIOD naming the bad field."""
    first = _month(from_text, "from") if from_text else Month(today.year, 1)
    last = _month(to_text, "to") if to_text else Month(today.year, 12)
    if last < first:
        raise ServiceError(422, "INVALID_PERIOD", "费款所属期起不能晚于费款所属期止", "to")
    if first.months_until(last) >= MAX_SPAN_MONTHS:
        raise ServiceError(422, "INVALID_PERIOD", "查询期间不能超过十年", "to")
    return first, last
