"""The daily purge: rows whose use has passed (sessions, quotes, captchas, idempotency, limits)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import captchas, idempotency, limit_counters, quotes, sessions
from workflows.contract import PurgeCounts

# A quote is kept a day past its expiry (a start retried with its Idempotency-Key is answered
# from the key's row, not the quote, but operators may look at a recent one).
QUOTE_KEEP = timedelta(days=1)
# A client may retry a start with the same Idempotency-Key for this long.
IDEMPOTENCY_KEEP = timedelta(days=7)


async def purge_expired(db: async_sessionmaker[AsyncSession], now: datetime) -> PurgeCounts:
    """Delete everything expired as of `now`; running it twice deletes nothing more."""
    async with db.begin() as session:
        return PurgeCounts(
            sessions=await sessions.purge_expired_sessions(session, now),
            quotes=await quotes.purge_expired(session, now - QUOTE_KEEP),
            captchas=await captchas.purge_old(session, now),
            idempotency_keys=await idempotency.purge_older_than(session, now - IDEMPOTENCY_KEEP),
            limit_counters=await limit_counters.purge_expired(session, now),
        )
