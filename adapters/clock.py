"""Clocks for adapters: system time, or the Temporal activity's (time-skippable) schedule time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from temporalio import activity

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def activity_clock() -> datetime:
    """Inside an activity: this attempt's scheduled time; elsewhere: system time.

    Simulators never sleep inside an activity (time skipping cannot skip a running activity);
    they compare `ready_at` timestamps with this clock instead. The attempt's scheduled time is
    stamped by the server, so under the time-skipping test server it follows the skipped clock.
    """
    if activity.in_activity():
        return activity.info().current_attempt_scheduled_time.astimezone(UTC)
    return system_clock()
