"""Mainland China business days (工作日) with adjusted working days (调休), for expected dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

# Statutory holidays on fixed Gregorian dates (元旦, 劳动节, 国庆节). The lunar ones (春节, 清明,
# 端午, 中秋) and the 调休 swaps are announced yearly and cannot be derived, which is why any
# answer relying on this rule is flagged as a fallback.
_FIXED_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)

# A business-day search never needs more than a few weeks; the bound turns a corrupt operator
# table (e.g. every day a holiday) into an error instead of an endless loop.
_MAX_SCAN_DAYS = 3660


@dataclass(frozen=True)
class BusinessDate:
    """A computed date, and whether a fallback (unofficial) calendar was used to get it."""

    date: date
    fallback: bool


@dataclass(frozen=True)
class _YearTable:
    holidays: frozenset[date]  # days off that would otherwise be working days
    workdays: frozenset[date]  # weekend days that are working days (调休)


class BusinessCalendar:
    """Business days from chinese_calendar (2004–2026 in 1.11), operator tables, or a fallback."""

    def __init__(self) -> None:
        self._tables: dict[int, _YearTable] = {}
        self._library_years: dict[int, bool] = {}

    def load_year_table(self, year: int, holidays: set[date], workdays: set[date]) -> None:
        """Load the official table of a year (e.g. 2027 once the State Council publishes it).

        `holidays` are the days off (weekdays or not), `workdays` the adjusted working days on
        weekends. The table overrides chinese_calendar and ends the fallback for that year.
        """
        if any(d.year != year for d in holidays | workdays):
            raise ValueError("every date of a year table must fall in that year")
        if holidays & workdays:
            raise ValueError("a date cannot be both a holiday and a working day")
        self._tables[year] = _YearTable(frozenset(holidays), frozenset(workdays))

    def has_official_data(self, year: int) -> bool:
        """True when the year is answered by an operator table or by chinese_calendar."""
        return year in self._tables or self._library_covers(year)

    def _library_covers(self, year: int) -> bool:
        # Asked of the library rather than hard-coded, so an upgrade extends coverage by itself.
        if year not in self._library_years:
            try:
                chinese_calendar.is_workday(date(year, 1, 1))
            except NotImplementedError:
                self._library_years[year] = False
            else:
                self._library_years[year] = True
        return self._library_years[year]

    def _classify(self, d: date) -> tuple[bool, bool]:
        """(is a business day, answered by the fallback rule)."""
        table = self._tables.get(d.year)
        if table is not None:
            if d in table.workdays:
                return True, False
            return d.weekday() < 5 and d not in table.holidays, False
        if self._library_covers(d.year):
            return bool(chinese_calendar.is_workday(d)), False
        return d.weekday() < 5 and (d.month, d.day) not in _FIXED_HOLIDAYS, True

    def is_business_day(self, d: date) -> bool:
        """Whether d is a working day (fallback rule for years without official data)."""
        return self._classify(d)[0]

    def add_business_days(self, start: date, n: int) -> BusinessDate:
        """The n-th business day strictly after start (n = 0: start, or the next business day).

        fallback is True when any day consulted came from a year without official data.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        fallback = False
        current = start
        if n == 0:
            business, used_fallback = self._classify(current)
            fallback = used_fallback
            remaining = 0 if business else 1
        else:
            remaining = n
        for _ in range(_MAX_SCAN_DAYS):
            if remaining == 0:
                return BusinessDate(current, fallback)
            current += timedelta(days=1)
            business, used_fallback = self._classify(current)
            fallback = fallback or used_fallback
            if business:
                remaining -= 1
        raise ValueError("no business day found within ten years")
