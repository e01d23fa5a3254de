"""The 公众号's template messages, simulated: every message sent is recorded and can be listed."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import Clock
from adapters.mp_messages.interface import TemplateMessage
from simulators.store import mp_messages, new_digits

# How many messages a listing shows at most (newest first).
LIST_LIMIT = 200


class MessageSimulator:
    """A PayerMessenger that keeps what it was sent in the simulators' database."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def send(self, message: TemplateMessage) -> str:
        # WeChat's msgid is a number: no leading zero, so it reads back the same.
        msgid = str(1 + secrets.randbelow(9)) + new_digits(15)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(mp_messages).values(
                    msgid=msgid,
                    openid=message.openid,
                    template_id=message.template_id,
                    url=message.url,
                    data=dict(message.data),
                    received_at=self._clock(),
                )
            )
        return msgid

    async def received(self, openid: str | None = None) -> list[dict[str, Any]]:
        """What was sent (to one openid, or to anyone), newest first."""
        query = select(mp_messages).order_by(mp_messages.c.received_at.desc()).limit(LIST_LIMIT)
        if openid is not None:
            query = query.where(mp_messages.c.openid == openid)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            {
                "msgid": row["msgid"],
                "openid": row["openid"],
                "template_id": row["template_id"],
                "url": row["url"],
                "data": row["data"],
                "received_at": row["received_at"].isoformat(),
            }
            for row in rows
        ]
