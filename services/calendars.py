"""The business calendar of a year as operators see and load it (official table, audited)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.calendar import BusinessCalendar, CalendarYear, DaySource, YearTable
from services.errors import ServiceError
from services.timefmt import utc_now
from storage import calendars

# A year has at most 366 days; anything longer is not a calendar table.
_MAX_DAYS = 366


class CalendarTableIn(BaseModel):
    """The State Council's notice for a year: its days off and its 调休 working days."""

    source: str = Field(min_length=1, max_length=500)
    holidays: list[date] = Field(max_length=_MAX_DAYS)
    workdays: list[date] = Field(default_factory=list, max_length=_MAX_DAYS)


class CalendarDayOut(BaseModel):
    date: date
    kind: Literal["non_working", "working"]
    name: str | None
    source: DaySource


class CalendarYearOut(BaseModel):
    year: int
    source: DaySource
    source_detail: str
    # False when the year's 调休 working days are not known (a provisional year).
    workdays_known: bool
    days: list[CalendarDayOut]


def _year_out(year: CalendarYear) -> CalendarYearOut:
    days = [
        CalendarDayOut(date=d, kind="non_working", name=year.names.get(d), source=year.source)
        for d in year.holidays
    ] + [
        CalendarDayOut(date=d, kind="working", name=None, source=year.source) for d in year.workdays
    ]
    return CalendarYearOut(
        year=year.year,
        source=year.source,
        source_detail=year.source_detail,
        workdays_known=year.workdays_known,
        days=sorted(days, key=lambda day: day.date),
    )


async def business_calendar(session: AsyncSession, years: list[int]) -> BusinessCalendar:
    """The calendar with the official tables loaded for these years."""
    return BusinessCalendar(await calendars.official_tables(session, years))


async def year_calendar(sessions: async_sessionmaker[AsyncSession], year: int) -> CalendarYearOut:
    """The year's non-working days and 调休 working days, each with its source."""
    async with sessions() as db:
        calendar = await business_calendar(db, [year])
    return _year_out(calendar.year(year))


async def load_official_year(
    sessions: async_sessionmaker[AsyncSession], actor: str, year: int, body: CalendarTableIn
) -> CalendarYearOut:
    """Load (or replace) a year's official table; it replaces the provisional or library one."""
    try:
        table = YearTable.of(year, set(body.holidays), set(body.workdays), body.source)
    except ValueError:
        message = "日历表的日期须在该年度内，且不能既休息又上班"
        raise ServiceError(422, "CALENDAR_TABLE_INVALID", message, "holidays") from None
    async with sessions.begin() as db:
        await calendars.put_official_table(db, table, actor, at=utc_now())
    return _year_out(BusinessCalendar({year: table}).year(year))
