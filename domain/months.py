"""Calendar months (费款所属期) as values: parsing, arithmetic and ranges."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from domain.errors import INVALID_MONTH, DomainError

# ASCII digits only: \d would also accept full-width and other Unicode digits.
_MONTH_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")


def _invalid_month() -> DomainError:
    return DomainError.of(INVALID_MONTH)


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month; orders chronologically (year first, then month)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.year <= 9999 and 1 <= self.month <= 12):
            raise _invalid_month()

    @classmethod
    def parse(cls, s: str) -> Month:
        """Parse strict "YYYY-MM" (e.g. "2024-03"); anything else raises INVALID_MONTH."""
        if not isinstance(s, str):
            raise _invalid_month()
        match = _MONTH_PATTERN.fullmatch(s)
        if match is None:
            raise _invalid_month()
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def from_date(cls, d: date) -> Month:
        """The month a date falls in."""
        return cls(d.year, d.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def _index(self) -> int:
        # Months since year 0: makes arithmetic a plain integer sum.
        return self.year * 12 + (self.month - 1)

    @classmethod
    def _from_index(cls, index: int) -> Month:
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    def add(self, n: int) -> Month:
        """The month n months later (n may be negative)."""
        return self._from_index(self._index() + n)

    def next(self) -> Month:
        return self.add(1)

    def prev(self) -> Month:
        return self.add(-1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def months_until(self, other: Month) -> int:
        """other - self in months: 2024-01 → 2024-03 is 2; negative when other is earlier."""
        return other._index() - self._index()


def month_range(start: Month, end: Month) -> list[Month]:
    """Every month from start to end, both included; empty when start is after end."""
    return [start.add(i) for i in range(start.months_until(end) + 1)]


def parse_months(values: list[str]) -> list[Month]:
    """Parse a list of "YYYY-MM" strings (as carried in messages) in the given order."""
    return [Month.parse(v) for v in values]
