"""WeChat openids bound to persons (网页授权): who a returning payer inside WeChat is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, WeChatOpenId


async def bind_openid(session: AsyncSession, openid: str, person_id: str, at: datetime) -> None:
    """The openid now names this person; an openid bound to someone else moves over (a phone
    changes hands, or another person signed in with it last)."""
    stmt = insert(WeChatOpenId).values(openid=openid, person_id=person_id, bound_at=at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[WeChatOpenId.openid],
            set_={"person_id": stmt.excluded.person_id, "bound_at": stmt.excluded.bound_at},
        )
    )


async def person_for_openid(session: AsyncSession, openid: str) -> Person | None:
    """The person the openid is bound to, if any."""
    result = await session.execute(
        select(Person)
        .join(WeChatOpenId, WeChatOpenId.person_id == Person.id)
        .where(WeChatOpenId.openid == openid)
    )
    return result.scalar_one_or_none()


async def openid_for_person(session: AsyncSession, person_id: str) -> str | None:
    """The openid the person bound most recently (where messages to them go), or None."""
    result = await session.execute(
        select(WeChatOpenId.openid)
        .where(WeChatOpenId.person_id == person_id)
        .order_by(WeChatOpenId.bound_at.desc(), WeChatOpenId.openid)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def unbind_person(session: AsyncSession, person_id: str) -> int:
    """Forget every openid bound to the person; how many there were."""
    result = await session.execute(
        delete(WeChatOpenId)
        .where(WeChatOpenId.person_id == person_id)
        .returning(WeChatOpenId.openid)
    )
    return len(result.all())
