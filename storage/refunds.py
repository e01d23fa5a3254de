"""Refunds through the original payment channel."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.payments import RefundState
from storage._sql import insert_ignore
from storage.errors import NotFound
from storage.models import Refund

# The channel never changes these again. ABNORMAL is not here: an operator can retry it.
_FINAL: Final = frozenset({RefundState.SUCCESS, RefundState.CLOSED})


async def add_refund(
    session: AsyncSession,
    *,
    out_refund_no: str,
    contribution_id: str,
    out_trade_no: str,
    amount_fen: int,
    reason: str,
    at: datetime,
) -> Refund:
    """Record a requested refund (PROCESSING); a retry returns the existing one unchanged."""
    await insert_ignore(
        session,
        Refund,
        [
            {
                "out_refund_no": out_refund_no,
                "contribution_id": contribution_id,
                "out_trade_no": out_trade_no,
                "amount_fen": amount_fen,
                "status": RefundState.PROCESSING,
                "reason": reason,
                "requested_at": at,
                "updated_at": at,
            }
        ],
    )
    refund = await session.get(Refund, out_refund_no)
    if refund is None:  # pragma: no cover - inserted just above or earlier
        raise NotFound("refund", out_refund_no)
    return refund


async def get_refund(session: AsyncSession, out_refund_no: str) -> Refund | None:
    return await session.get(Refund, out_refund_no)


async def update_refund(
    session: AsyncSession,
    out_refund_no: str,
    status: RefundState,
    *,
    refund_id: str | None = None,
    at: datetime,
) -> Refund:
    """Apply the channel's refund status; a final SUCCESS/CLOSED is never left again."""
    refund = await session.get(Refund, out_refund_no, with_for_update=True, populate_existing=True)
    if refund is None:
        raise NotFound("refund", out_refund_no)
    changed = False
    if refund.status != status and refund.status not in _FINAL:
        refund.status = status
        # finished_at marks the channel's last word; an ABNORMAL refund retried is open again.
        refund.finished_at = None if status == RefundState.PROCESSING else at
        changed = True
    if refund_id is not None and refund.refund_id != refund_id:
        refund.refund_id = refund_id
        changed = True
    if changed:
        refund.updated_at = at
    await session.flush()
    return refund


async def refunds_for(session: AsyncSession, contribution_id: str) -> list[Refund]:
    result = await session.execute(
        select(Refund)
        .where(Refund.contribution_id == contribution_id)
        .order_by(Refund.requested_at, Refund.out_refund_no)
    )
    return list(result.scalars())
