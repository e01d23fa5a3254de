"""Quotes: the amounts confirmed to the payer before a contribution starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import Insurance
from storage.models import Quote, new_quote_id


async def add_quote(
    session: AsyncSession,
    *,
    person_id: str,
    insurance: Insurance,
    months: list[str],
    grade: int,
    back_payment: bool,
    lines: list[dict[str, Any]],
    total_fen: int,
    created_at: datetime,
    expires_at: datetime,
    requested_by_person_id: str | None = None,
    quote_id: str | None = None,
) -> Quote:
    """Store a quote; its id is random ("q_" + hex) unless given."""
    quote = Quote(
        id=quote_id or new_quote_id(),
        person_id=person_id,
        requested_by_person_id=requested_by_person_id,
        insurance=insurance,
        months=list(months),
        grade=grade,
        back_payment=back_payment,
        lines=[dict(line) for line in lines],
        total_fen=total_fen,
        created_at=created_at,
        expires_at=expires_at,
    )
    session.add(quote)
    await session.flush()
    return quote


async def get_quote(session: AsyncSession, quote_id: str) -> Quote | None:
    return await session.get(Quote, quote_id)


async def purge_expired(session: AsyncSession, before: datetime) -> int:
    """Delete quotes that expired before the moment; returns how many went."""
    result = await session.execute(
        delete(Quote).where(Quote.expires_at < before).returning(Quote.id)
    )
    return len(result.all())
