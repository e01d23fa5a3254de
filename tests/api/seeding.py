"""Test data stored straight through the repositories, for states a flow passes too fast to see."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.vocabulary import Channel, ContributionStatus, Insurance
from storage import contributions
from tests.api.conftest import ApiStack, Payer


async def posting_contribution(
    api: ApiStack, payer: Payer, month: str, *, expected: date = date(2099, 1, 5)
) -> str:
    """A contribution of the payer stored as POSTING: paid, not yet in the treasury."""
    contribution_id = f"seed-{payer.person_id[-8:]}-{month}"
    now = datetime.now(UTC)
    async with api.sessions.begin() as db:
        await contributions.create_contribution(
            db,
            contribution_id=contribution_id,
            person_id=payer.person_id,
            payer_ref=payer.payer_ref,
            insurance=Insurance.PENSION,
            months=[month],
            grade=60,
            back_payment=False,
            channel=Channel.WECHAT_BALANCE,
            quote_id=None,
            total_fen=87267,
            lines=[{"month": month, "base_fen": 484820, "amount_fen": 87267}],
            requested_by_person_id=payer.person_id,
            status=ContributionStatus.POSTING,
            at=now,
        )
        await contributions.set_status(
            db,
            contribution_id,
            ContributionStatus.POSTING,
            now,
            paid_at=now,
            expected_treasury_date=expected,
        )
    return contribution_id
