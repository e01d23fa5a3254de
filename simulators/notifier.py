"""Simulator mode: hands the payment simulator's pending notifications to the API in-process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from adapters.payments.interface import PaymentNotification
from simulators.payments import PaymentSimulator

log = logging.getLogger("shebao.simulators.notifier")

INTERVAL_S = 0.3
RETRY_AFTER = timedelta(seconds=2)

# What receives a notification: True once handled, False to have it again after RETRY_AFTER,
# None when the receiver cannot take any now (Temporal not reached yet): the rest wait, and
# no attempt is counted.
Accept = Callable[[PaymentNotification], Awaitable[bool | None]]


async def deliver_once(sim: PaymentSimulator, accept: Accept) -> int:
    """Deliver what is due now; returns how many were acknowledged."""
    delivered = 0
    for notification in await sim.pending_notifications():
        accepted = await accept(notification)
        if accepted is None:
            break
        if accepted:
            await sim.mark_delivered(notification.event_id)
            delivered += 1
        else:
            await sim.mark_failed_attempt(notification.event_id, datetime.now(UTC) + RETRY_AFTER)
    return delivered


async def run_notifier(
    sim: PaymentSimulator, accept: Accept, interval_s: float = INTERVAL_S
) -> None:
    """Forever: deliver, sleep. Lost notifications never show up: polling finds those payments."""
    while True:
        try:
            await deliver_once(sim, accept)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # By type and code location only: an exception's message may hold input.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unexpected %s in sim notifier\n%s", type(exc).__name__, frames)
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def notifier_running(sim: PaymentSimulator, accept: Accept) -> AsyncIterator[None]:
    task = asyncio.create_task(run_notifier(sim, accept), name="sim-notifier")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
