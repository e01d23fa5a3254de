"""Fixed-window counters in PostgreSQL: limits that every API process shares."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LimitCounter


async def hit(
    session: AsyncSession, key: str, now: datetime, window: timedelta
) -> tuple[int, datetime]:
    """Count one more in the key's current window; (the count now, when the window ends).

    One upsert: concurrent hits from any process serialise on the row, none is lost. A window
    that has ended starts again at 1.
    """
    table = LimitCounter.__table__
    ended = table.c.expires_at <= now
    stmt = (
        insert(LimitCounter)
        .values(key=key, window_start=now, count=1, expires_at=now + window)
        .on_conflict_do_update(
            index_elements=[LimitCounter.key],
            set_={
                "count": case((ended, 1), else_=table.c.count + 1),
                "window_start": case((ended, now), else_=table.c.window_start),
                "expires_at": case((ended, now + window), else_=table.c.expires_at),
            },
        )
        .returning(LimitCounter.count, LimitCounter.expires_at)
    )
    row = (await session.execute(stmt)).one()
    return int(row[0]), row[1]


async def give_back(session: AsyncSession, key: str, now: datetime) -> None:
    """Take one back from the key's live window (an attempt that turned out not to count)."""
    await session.execute(
        update(LimitCounter)
        .where(LimitCounter.key == key, LimitCounter.expires_at > now, LimitCounter.count > 0)
        .values(count=LimitCounter.count - 1)
    )


async def current(session: AsyncSession, key: str, now: datetime) -> tuple[int, datetime | None]:
    """The key's count in its live window (0 and None when there is none)."""
    row = (
        await session.execute(
            select(LimitCounter.count, LimitCounter.expires_at).where(
                LimitCounter.key == key, LimitCounter.expires_at > now
            )
        )
    ).one_or_none()
    return (0, None) if row is None else (int(row[0]), row[1])


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete windows that have ended; returns how many went."""
    result = await session.execute(
        delete(LimitCounter).where(LimitCounter.expires_at <= now).returning(LimitCounter.key)
    )
    return len(result.all())
