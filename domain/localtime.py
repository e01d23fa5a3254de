"""The service's one time zone, Asia/Shanghai: the calendar date every business rule speaks of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

# China has had no daylight saving since 1991: a fixed offset is exact, needs no tz database
# and is safe inside the workflow sandbox.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def shanghai_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware moment (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).date()


def shanghai_text(moment: datetime) -> str:
    """A moment as operators read it: `2026-12-09 10:30 Asia/Shanghai` (seconds only if any)."""
    local = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(SHANGHAI)
    shown = f"{local:%Y-%m-%d %H:%M:%S}" if local.second else f"{local:%Y-%m-%d %H:%M}"
    return f"{shown} Asia/Shanghai"
