"""Official yearly calendar tables (days off, 调休 workdays), changed only with an audit entry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.calendar import YearTable
from storage.audit import audit
from storage.models import CalendarTable


def _table(row: CalendarTable) -> YearTable:
    return YearTable.of(
        row.year,
        {date.fromisoformat(d) for d in row.holidays},
        {date.fromisoformat(d) for d in row.workdays},
        row.source,
    )


async def official_tables(session: AsyncSession, years: Iterable[int]) -> dict[int, YearTable]:
    """The loaded tables among the given years (years without one are absent)."""
    result = await session.execute(
        select(CalendarTable).where(CalendarTable.year.in_(sorted(set(years))))
    )
    return {row.year: _table(row) for row in result.scalars()}


async def put_official_table(
    session: AsyncSession, table: YearTable, actor: str, *, at: datetime
) -> None:
    """Create or replace a year's official table, and record who did it."""
    holidays = [d.isoformat() for d in sorted(table.holidays)]
    workdays = [d.isoformat() for d in sorted(table.workdays)]
    row = await session.get(CalendarTable, table.year)
    if row is None:
        row = CalendarTable(year=table.year)
        session.add(row)
    row.holidays = holidays
    row.workdays = workdays
    row.source = table.source
    row.updated_at = at
    row.updated_by = actor
    await audit(
        session,
        actor=actor,
        action="calendar.put",
        subject=f"calendar:{table.year}",
        detail={
            "year": table.year,
            "source": table.source,
            "holidays": len(holidays),
            "workdays": len(workdays),
        },
        at=at,
    )
