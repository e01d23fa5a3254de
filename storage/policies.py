"""Yearly policy documents (rates, bases, grades) kept as JSON, changed only with an audit entry."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import Insurance
from storage.audit import audit
from storage.models import Policy


async def get_policy_documents(
    session: AsyncSession, insurance: Insurance = Insurance.PENSION
) -> dict[int, dict[str, Any]]:
    """Year → policy document, for one insurance type."""
    result = await session.execute(
        select(Policy).where(Policy.insurance == insurance).order_by(Policy.year)
    )
    return {policy.year: policy.document for policy in result.scalars()}


async def list_policies(session: AsyncSession) -> list[Policy]:
    result = await session.execute(select(Policy).order_by(Policy.insurance, Policy.year))
    return list(result.scalars())


async def put_policy_document(
    session: AsyncSession,
    year: int,
    document: dict[str, Any],
    provisional: bool,
    actor: str,
    *,
    insurance: Insurance = Insurance.PENSION,
    at: datetime | None = None,
) -> None:
    """Create or replace a year's document, and record who did it."""
    at = at or datetime.now(UTC)
    policy = await session.get(Policy, (year, insurance))
    if policy is None:
        session.add(
            Policy(
                year=year,
                insurance=insurance,
                document=document,
                provisional=provisional,
                updated_at=at,
                updated_by=actor,
            )
        )
    else:
        policy.document = document
        policy.provisional = provisional
        policy.updated_at = at
        policy.updated_by = actor
    # A digest rather than the document: enough to tell versions apart, small in the log.
    digest = hashlib.sha256(
        json.dumps(document, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    await audit(
        session,
        actor=actor,
        action="policy.put",
        subject=f"policy:{insurance.value}:{year}",
        detail={
            "year": year,
            "insurance": insurance.value,
            "provisional": provisional,
            "sha256": digest,
        },
        at=at,
    )
