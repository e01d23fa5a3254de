"""Mainland China business days (工作日) with adjusted working days (调休), for expected dates.

A year is answered, in order, by the official table an operator loaded (the State Council's
notice), by chinese-calendar, or by a provisional rule: weekends plus the statutory holidays the
`holidays` library computes (the lunar festivals included). Every date derived from the
provisional rule is flagged as such, so the payer sees 预计 in front of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib.metadata import version

import chinese_calendar
import holidays as holiday_rules

# A business-day search never needs more than a few weeks; the bound turns a corrupt operator
# table (e.g. every day a holiday) into an error instead of an endless loop.
_MAX_SCAN_DAYS = 3660

# Where the provisional rule comes from, shown beside the year it answers.
PROVISIONAL_SOURCE = f"holidays {version('holidays')} (China, computed; 调休 not announced)"
LIBRARY_SOURCE = f"chinese-calendar {version('chinese-calendar')}"


class DaySource(StrEnum):
    """Who says a year's days are what they are, most trusted first."""

    OFFICIAL = "official"
    LIBRARY = "chinese-calendar"
    PROVISIONAL = "provisional"


@dataclass(frozen=True)
class BusinessDate:
    """A computed date, and whether a provisional (unofficial) calendar was used to get it."""

    date: date
    provisional: bool


@dataclass(frozen=True)
class YearTable:
    """One year's exceptions to the weekday rule, and where they come from."""

    year: int
    holidays: frozenset[date]  # days off (on weekends too, when the notice lists them)
    workdays: frozenset[date]  # weekend days that are working days (调休)
    source: str = ""
    # Whether the year's 调休 working days are known; a provisional year's are not.
    workdays_known: bool = True
    names: Mapping[date, str] = field(default_factory=dict)

    @classmethod
    def of(cls, year: int, holidays: set[date], workdays: set[date], source: str = "") -> YearTable:
        """A validated table: every date in the year, none both off and working."""
        if any(d.year != year for d in holidays | workdays):
            raise ValueError("every date of a year table must fall in that year")
        if holidays & workdays:
            raise ValueError("a date cannot be both a holiday and a working day")
        return cls(year, frozenset(holidays), frozenset(workdays), source)

    def is_business_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays


@dataclass(frozen=True)
class CalendarYear:
    """A year as the operator sees it: its days off and its 调休 working days, with the source."""

    year: int
    source: DaySource
    source_detail: str
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    workdays_known: bool
    names: Mapping[date, str]


@cache
def _library_covers(year: int) -> bool:
    # Asked of the library rather than hard-coded, so an upgrade extends coverage by itself.
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@cache
def library_table(year: int) -> YearTable:
    """chinese-calendar's days off and 调休 working days of a year it covers."""
    days_off = {d: h for d, h in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5}
    names = {d: str(h) for d, h in days_off.items()}
    return YearTable(year, frozenset(days_off), frozenset(workdays), LIBRARY_SOURCE, True, names)


@cache
def provisional_table(year: int) -> YearTable:
    """The `holidays` library's statutory days off (lunar festivals and their observed days).

    The 调休 working days are announced with the State Council's notice and cannot be computed:
    the library lists them only for years it has the notice of, so for the others the table
    says they are unknown.
    """
    computed = holiday_rules.country_holidays("CN", years=year)
    days_off = {d: str(name) for d, name in computed.items() if d.year == year}
    workdays = {d for d in getattr(computed, "weekend_workdays", set()) if d.year == year}
    return YearTable(
        year,
        frozenset(days_off),
        frozenset(workdays),
        PROVISIONAL_SOURCE,
        workdays_known=bool(workdays),
        names=days_off,
    )


class BusinessCalendar:
    """Business days from official tables, chinese_calendar, or the provisional rule."""

    def __init__(self, tables: Mapping[int, YearTable] | None = None) -> None:
        self._tables: dict[int, YearTable] = dict(tables or {})

    def load_year_table(
        self, year: int, holidays: set[date], workdays: set[date], source: str = ""
    ) -> None:
        """Load the official table of a year (e.g. 2027 once the State Council publishes it).

        `holidays` are the days off (weekdays or not), `workdays` the adjusted working days on
        weekends. The table overrides chinese_calendar and ends the provisional rule for that year.
        """
        self._tables[year] = YearTable.of(year, holidays, workdays, source)

    def with_tables(self, tables: Mapping[int, YearTable]) -> BusinessCalendar:
        """This calendar with more official tables (e.g. those stored in the database)."""
        return BusinessCalendar({**self._tables, **tables})

    def source_of(self, year: int) -> DaySource:
        if year in self._tables:
            return DaySource.OFFICIAL
        if _library_covers(year):
            return DaySource.LIBRARY
        return DaySource.PROVISIONAL

    def has_official_data(self, year: int) -> bool:
        """True when the year is answered by an operator table or by chinese_calendar."""
        return self.source_of(year) is not DaySource.PROVISIONAL

    def _table(self, year: int) -> YearTable:
        source = self.source_of(year)
        if source is DaySource.OFFICIAL:
            return self._tables[year]
        if source is DaySource.LIBRARY:
            return library_table(year)
        return provisional_table(year)

    def year(self, year: int) -> CalendarYear:
        """The year's days off and 调休 working days, and who says so."""
        table = self._table(year)
        return CalendarYear(
            year=year,
            source=self.source_of(year),
            source_detail=table.source,
            holidays=tuple(sorted(table.holidays)),
            workdays=tuple(sorted(table.workdays)),
            workdays_known=table.workdays_known,
            names=table.names,
        )

    def _classify(self, d: date) -> tuple[bool, bool]:
        """(is a business day, answered by the provisional rule)."""
        return (
            self._table(d.year).is_business_day(d),
            self.source_of(d.year) is DaySource.PROVISIONAL,
        )

    def is_business_day(self, d: date) -> bool:
        """Whether d is a working day (provisional rule for years without official data)."""
        return self._classify(d)[0]

    def add_business_days(self, start: date, n: int) -> BusinessDate:
        """The n-th business day strictly after start (n = 0: start, or the next business day).

        provisional is True when any day consulted came from a year without official data.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        provisional = False
        current = start
        if n == 0:
            business, provisional = self._classify(current)
            remaining = 0 if business else 1
        else:
            remaining = n
        for _ in range(_MAX_SCAN_DAYS):
            if remaining == 0:
                return BusinessDate(current, provisional)
            current += timedelta(days=1)
            business, used_provisional = self._classify(current)
            provisional = provisional or used_provisional
            if business:
                remaining -= 1
        raise ValueError("no business day found within ten years")
