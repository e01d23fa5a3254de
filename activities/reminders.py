"""The reminder workflow's one activity: remind opted-in payers (services/payer_messages.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from temporalio import activity

from domain.localtime import shanghai_date
from services.payer_messages import PayerMessages
from workflows.contract import ReminderSteps as Steps


class ReminderActivities:
    def __init__(self, messages: PayerMessages, days_before_cutoff: Sequence[int]) -> None:
        self._messages = messages
        self._days_before = tuple(days_before_cutoff)

    @activity.defn(name=Steps.SEND_REMINDERS.name)
    async def send_payer_reminders(self, now: datetime) -> int:
        # The cut-off is an Asia/Shanghai date: so is the day counted to it.
        return await self._messages.remind(shanghai_date(now), self._days_before)

    def all(self) -> list[Callable[..., Awaitable[object]]]:
        """Every activity, for the worker's registration."""
        return [self.send_payer_reminders]
