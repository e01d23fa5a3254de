"""Moments as operators read them: Asia/Shanghai, minutes, seconds only when there are some."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from domain.localtime import shanghai_date, shanghai_text


def test_a_utc_moment_reads_in_shanghai_time() -> None:
    moment = datetime(2026, 12, 9, 2, 30, tzinfo=UTC)
    assert shanghai_text(moment) == "2026-12-09 10:30 Asia/Shanghai"
    assert shanghai_text(moment + timedelta(seconds=7, microseconds=5)) == (
        "2026-12-09 10:30:07 Asia/Shanghai"
    )


def test_the_shanghai_day_can_differ_from_the_utc_day() -> None:
    late = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert shanghai_text(late) == "2027-01-01 01:00 Asia/Shanghai"
    assert shanghai_date(late).isoformat() == "2027-01-01"
    # Naive values are taken as UTC, as shanghai_date takes them; other zones are converted.
    assert shanghai_text(late.replace(tzinfo=None)) == "2027-01-01 01:00 Asia/Shanghai"
    tokyo = timezone(timedelta(hours=9))
    assert shanghai_text(datetime(2027, 1, 1, 2, 0, tzinfo=tokyo)) == (
        "2027-01-01 01:00 Asia/Shanghai"
    )
