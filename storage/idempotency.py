"""Idempotency keys of API requests: the first claim wins, repeats get the stored response."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import insert_ignore
from storage.errors import NotFound
from storage.models import IdempotencyRecord


async def claim_key(
    session: AsyncSession,
    *,
    key: str,
    scope: str,
    request_hash: str,
    contribution_id: str | None,
    at: datetime,
) -> IdempotencyRecord:
    """Claim the key, or return whoever claimed it first (compare request_hash to tell).

    Concurrent claims of one key yield one row: on PostgreSQL the second waits for the first.
    """
    await insert_ignore(
        session,
        IdempotencyRecord,
        [
            {
                "key": key,
                "scope": scope,
                "request_hash": request_hash,
                "contribution_id": contribution_id,
                "created_at": at,
            }
        ],
    )
    record = await session.get(IdempotencyRecord, key)
    if record is None:  # pragma: no cover - inserted just above or earlier
        raise NotFound("idempotency key", "claimed")
    return record


async def get_key(session: AsyncSession, key: str) -> IdempotencyRecord | None:
    return await session.get(IdempotencyRecord, key)


async def store_response(
    session: AsyncSession, key: str, status_code: int, response: dict[str, Any]
) -> None:
    """Keep the response given for the key, to replay it to a repeated request."""
    record = await session.get(IdempotencyRecord, key)
    if record is None:
        # The key itself may be client-chosen text: leave it out of the message.
        raise NotFound("idempotency key", "unclaimed")
    record.status_code = status_code
    record.response = response
    await session.flush()


async def purge_older_than(session: AsyncSession, before: datetime) -> int:
    """Delete keys claimed before the moment; returns how many went."""
    result = await session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.created_at < before)
        .returning(IdempotencyRecord.key)
    )
    return len(result.all())
