"""Messages to payers and their reminder choice: once-only inserts, newest-first reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import table_of
from storage.models import MessageSettings, PayerMessage

PENDING = "PENDING"
SENT = "SENT"
NO_OPENID = "NO_OPENID"
FAILED = "FAILED"
UNKNOWN = "UNKNOWN"

# How many messages a payer's list shows at most.
LIST_LIMIT = 100


async def add_message(
    session: AsyncSession,
    *,
    key: str,
    person_id: str,
    kind: str,
    title: str,
    body: str,
    link: str,
    contribution_id: str | None,
    at: datetime,
) -> PayerMessage:
    """The message under `key`: inserted now, or the one a previous attempt inserted."""
    stmt = (
        insert(table_of(PayerMessage))
        .values(
            key=key,
            person_id=person_id,
            kind=kind,
            title=title,
            body=body,
            link=link,
            contribution_id=contribution_id,
            created_at=at,
            wechat_state=PENDING,
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    await session.execute(stmt)
    # FOR UPDATE: two attempts of one step never both send it (the second waits, then sees SENT).
    found = await session.execute(
        select(PayerMessage).where(PayerMessage.key == key).with_for_update()
    )
    return found.scalar_one()


async def mark_wechat(
    session: AsyncSession,
    message_id: int,
    state: str,
    at: datetime,
    *,
    msgid: str | None = None,
    error: str | None = None,
) -> None:
    await session.execute(
        update(PayerMessage)
        .where(PayerMessage.id == message_id)
        .values(wechat_state=state, wechat_msgid=msgid, wechat_error=error, wechat_at=at)
    )


async def list_messages(
    session: AsyncSession, person_id: str, limit: int = LIST_LIMIT
) -> Sequence[PayerMessage]:
    """The person's messages, newest first."""
    rows = await session.execute(
        select(PayerMessage)
        .where(PayerMessage.person_id == person_id)
        .order_by(PayerMessage.created_at.desc(), PayerMessage.id.desc())
        .limit(limit)
    )
    return rows.scalars().all()


async def reminders_wanted(session: AsyncSession, person_id: str) -> bool:
    row = await session.get(MessageSettings, person_id)
    return row is not None and row.reminders


async def set_reminders(session: AsyncSession, person_id: str, wanted: bool, at: datetime) -> None:
    stmt = insert(table_of(MessageSettings)).values(
        person_id=person_id, reminders=wanted, updated_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["person_id"],
            set_={"reminders": stmt.excluded.reminders, "updated_at": stmt.excluded.updated_at},
        )
    )


async def opted_in_people(session: AsyncSession) -> Sequence[str]:
    """Everyone who asked for reminders."""
    rows = await session.execute(
        select(MessageSettings.person_id)
        .where(MessageSettings.reminders.is_(True))
        .order_by(MessageSettings.person_id)
    )
    return rows.scalars().all()
