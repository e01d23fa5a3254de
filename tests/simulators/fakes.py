"""Test doubles for adapter tests: a clock moved by hand."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """A clock tests move by hand, standing in for the time-skipping server's clock."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
