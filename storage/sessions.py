"""Sign-in sessions of payers; only a hash of the bearer token is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, SessionRow


async def create_session(
    session: AsyncSession,
    *,
    token_hash: str,
    person_id: str,
    at: datetime,
    expires_at: datetime,
) -> SessionRow:
    row = SessionRow(
        token_hash=token_hash, person_id=person_id, created_at=at, expires_at=expires_at
    )
    session.add(row)
    await session.flush()
    return row


async def get_live_session_person(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[Person, datetime] | None:
    """The person signed in with the token hash and the session's expiry, unless it expired.

    One join instead of session-then-person: every authenticated request asks this.
    """
    result = await session.execute(
        select(Person, SessionRow.expires_at)
        .join(SessionRow, SessionRow.person_id == Person.id)
        .where(SessionRow.token_hash == token_hash, SessionRow.expires_at > now)
    )
    row = result.one_or_none()
    return (row[0], row[1]) if row is not None else None


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    """Sign out; deleting an unknown or already deleted session is fine."""
    await session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash))


async def purge_expired_sessions(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        delete(SessionRow).where(SessionRow.expires_at <= now).returning(SessionRow.token_hash)
    )
    return len(result.all())
