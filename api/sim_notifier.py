"""Simulator mode: delivers the payment simulator's pending notifications in-process (~0.3 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from adapters.payments.simulator import PaymentSimulator
from services.context import AppState
from services.errors import log_unexpected
from services.notifications import accept_payment_notification

log = logging.getLogger("shebao.api.sim_notifier")

INTERVAL_S = 0.3
RETRY_AFTER = timedelta(seconds=2)


async def deliver_once(state: AppState, sim: PaymentSimulator) -> int:
    """Deliver what is due now; returns how many were acknowledged."""
    client = await state.temporal.connect()
    if client is None:
        return 0
    delivered = 0
    for notification in await sim.pending_notifications():
        if await accept_payment_notification(state.sessions, client, notification):
            await sim.mark_delivered(notification.event_id)
            delivered += 1
        else:
            await sim.mark_failed_attempt(notification.event_id, datetime.now(UTC) + RETRY_AFTER)
    return delivered


async def run_notifier(
    state: AppState, sim: PaymentSimulator, interval_s: float = INTERVAL_S
) -> None:
    """Forever: deliver, sleep. Lost notifications never show up: polling finds those payments."""
    while True:
        try:
            await deliver_once(state, sim)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_unexpected(exc, "sim notifier")
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def notifier_running(state: AppState, sim: PaymentSimulator) -> AsyncIterator[None]:
    task = asyncio.create_task(run_notifier(state, sim), name="sim-notifier")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
