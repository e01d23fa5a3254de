"""Sign-outs told to every API process at once: PostgreSQL NOTIFY, and a listener per process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "shebao_sign_out"
# After the listening connection is lost, how long to wait before connecting again.
RECONNECT_S = 1.0

log = logging.getLogger("shebao.storage")


async def announce(session: AsyncSession, token_hash: str) -> None:
    """Tell every listener the session ended; delivered when the transaction commits."""
    await session.execute(
        text("SELECT pg_notify(:channel, :key)"), {"channel": CHANNEL, "key": token_hash}
    )


@contextlib.asynccontextmanager
async def listening(
    url: str, forget: Callable[[str], None], lost: Callable[[bool], None]
) -> AsyncIterator[None]:
    """While inside, `forget(token_hash)` runs for every sign-out any process announces.

    `lost(True)` runs whenever the listening connection is down (a sign-out may then go unheard,
    so the caller must stop trusting what it remembers) and `lost(False)` once it listens again.
    """
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    ready = asyncio.Event()

    async def run() -> None:
        while True:
            lost(True)
            try:
                conn = await asyncpg.connect(dsn, timeout=10)
            except (OSError, asyncpg.PostgresError, TimeoutError) as err:
                log.warning("sign-out listener cannot connect (%s)", type(err).__name__)
                ready.set()
                await asyncio.sleep(RECONNECT_S)
                continue
            closed = asyncio.Event()
            try:
                conn.add_termination_listener(lambda _conn, ended=closed: ended.set())
                await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, key: forget(key))
                lost(False)
                ready.set()
                await closed.wait()
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=5)
            await asyncio.sleep(RECONNECT_S)

    task = asyncio.create_task(run(), name="sign-out listener")
    try:
        await ready.wait()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
