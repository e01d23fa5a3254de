"""Captchas of the certificate query: issued with an answer hash, consumed once, rate limited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CaptchaRow

# Spent and expired captchas are kept this long (the rate limit looks back one minute only).
_KEEP = timedelta(hours=1)


async def add_captcha(
    session: AsyncSession,
    *,
    captcha_id: str,
    answer_hash: str,
    client_key: str,
    at: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        CaptchaRow(
            id=captcha_id,
            answer_hash=answer_hash,
            client_key=client_key,
            created_at=at,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def issued_since(session: AsyncSession, client_key: str, since: datetime) -> int:
    """How many captchas the client was given since the moment (the rate limit's count)."""
    count = await session.scalar(
        select(func.count())
        .select_from(CaptchaRow)
        .where(CaptchaRow.client_key == client_key, CaptchaRow.created_at > since)
    )
    return int(count or 0)


async def consume(session: AsyncSession, captcha_id: str, now: datetime) -> str | None:
    """Mark the captcha used and return its answer hash; None if unknown, spent or expired.

    One conditional UPDATE: of two concurrent attempts on the same captcha only one gets the
    hash, so a captcha is never accepted twice.
    """
    result = await session.execute(
        update(CaptchaRow)
        .where(
            CaptchaRow.id == captcha_id,
            CaptchaRow.used_at.is_(None),
            CaptchaRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(CaptchaRow.answer_hash)
    )
    row = result.first()
    return None if row is None else str(row[0])


async def purge_old(session: AsyncSession, now: datetime) -> int:
    """Delete captchas that expired more than an hour ago; returns how many went."""
    result = await session.execute(
        delete(CaptchaRow).where(CaptchaRow.expires_at < now - _KEEP).returning(CaptchaRow.id)
    )
    return len(result.all())
