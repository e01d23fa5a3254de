"""Issued certificates (完税证明): what they certify and the PDF as it was issued."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import Insurance
from storage.models import Certificate


async def add_certificate(
    session: AsyncSession,
    *,
    certificate_no: str,
    person_id: str,
    insurance: Insurance,
    from_month: str,
    to_month: str,
    verify_code_hash: str,
    lines: Sequence[Mapping[str, Any]],
    total_fen: int,
    issued_at: datetime,
    pdf: bytes,
) -> Certificate:
    """Store a new certificate; a duplicate number raises IntegrityError (the caller redraws)."""
    row = Certificate(
        certificate_no=certificate_no,
        person_id=person_id,
        insurance=insurance,
        from_month=from_month,
        to_month=to_month,
        verify_code_hash=verify_code_hash,
        lines=[dict(line) for line in lines],
        total_fen=total_fen,
        issued_at=issued_at,
        pdf=pdf,
    )
    session.add(row)
    await session.flush()
    return row


async def get_certificate(session: AsyncSession, certificate_no: str) -> Certificate | None:
    return await session.get(Certificate, certificate_no)


async def list_certificates(session: AsyncSession, person_id: str) -> list[Certificate]:
    """The person's certificates, newest first."""
    result = await session.execute(
        select(Certificate)
        .where(Certificate.person_id == person_id)
        .order_by(Certificate.issued_at.desc(), Certificate.certificate_no)
    )
    return list(result.scalars())
