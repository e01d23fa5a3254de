"""Treasury receipts (入库) and the months they make certifiable."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import Insurance
from storage._sql import insert_or_get, table_of
from storage.errors import NotFound
from storage.models import CertifiableMonth, ContributionMonth, TreasuryReceipt


async def record_receipt(
    session: AsyncSession,
    *,
    contribution_id: str,
    receipt_no: str,
    amount_fen: int,
    treasury_date: date,
    at: datetime,
) -> TreasuryReceipt:
    """Keep the receipt; a second delivery returns the first one unchanged."""
    receipt, _inserted = await insert_or_get(
        session,
        TreasuryReceipt,
        {
            "contribution_id": contribution_id,
            "receipt_no": receipt_no,
            "amount_fen": amount_fen,
            "treasury_date": treasury_date,
            "received_at": at,
        },
    )
    return receipt


async def get_receipt(session: AsyncSession, contribution_id: str) -> TreasuryReceipt | None:
    return await session.get(TreasuryReceipt, contribution_id)


async def add_certifiable_months(session: AsyncSession, contribution_id: str, at: datetime) -> int:
    """Make the contribution's months certifiable; returns how many were new (0 on a retry).

    Needs the treasury receipt: only money in the treasury counts. One statement: the months
    joined with the receipt, inserted unless already there.
    """
    months = table_of(ContributionMonth)
    receipts = table_of(TreasuryReceipt)
    certifiable = table_of(CertifiableMonth)
    rows = (
        select(
            months.c.person_id,
            months.c.insurance,
            months.c.month,
            months.c.contribution_id,
            months.c.amount_fen + months.c.interest_fen,
            receipts.c.treasury_date,
            literal(at, certifiable.c.created_at.type),
        )
        .join(receipts, receipts.c.contribution_id == months.c.contribution_id)
        .where(months.c.contribution_id == contribution_id)
    )
    result = await session.execute(
        pg_insert(certifiable)
        .from_select(
            [
                "person_id",
                "insurance",
                "month",
                "contribution_id",
                "amount_fen",
                "treasury_date",
                "created_at",
            ],
            rows,
        )
        .on_conflict_do_nothing()
        .returning(certifiable.c.month)
    )
    added = len(result.all())
    if not added and await get_receipt(session, contribution_id) is None:
        raise NotFound("treasury receipt", contribution_id)
    return added


async def certifiable_months(
    session: AsyncSession,
    person_id: str,
    insurance: Insurance,
    from_month: str,
    to_month: str,
) -> list[CertifiableMonth]:
    """The person's certifiable months from from_month to to_month inclusive, by month."""
    result = await session.execute(
        select(CertifiableMonth)
        .where(
            CertifiableMonth.person_id == person_id,
            CertifiableMonth.insurance == insurance,
            CertifiableMonth.month >= from_month,
            CertifiableMonth.month <= to_month,
        )
        .order_by(CertifiableMonth.month)
    )
    return list(result.scalars())
