"""The audit log: who changed what outside the workflows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any],
    at: datetime,
) -> None:
    """Append one entry; detail must hold no personal data."""
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, detail=detail))
    await session.flush()


async def audit_entries(
    session: AsyncSession, *, subject: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    """Newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if subject is not None:
        stmt = stmt.where(AuditEntry.subject == subject)
    result = await session.execute(stmt)
    return list(result.scalars())
