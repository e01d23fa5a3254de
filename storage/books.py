"""Reads the books (contributions, payments, refunds, postings, receipts) for the audit."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.books import Books, ContributionFact, PaymentFact, RefundFact
from domain.payments import CHARGED_STATES
from domain.vocabulary import PostingState
from storage.models import Contribution, Payment, Posting, Refund, TreasuryReceipt


async def load_books(session: AsyncSession) -> Books:
    """Everything the audit needs, as plain facts (ids and fen only, no personal data)."""
    payments = (await session.scalars(select(Payment))).all()
    charged: defaultdict[str, int] = defaultdict(int)
    for p in payments:
        if p.state in CHARGED_STATES:
            charged[p.contribution_id] += p.amount_fen
    refunds: defaultdict[str, list[RefundFact]] = defaultdict(list)
    for r in (await session.scalars(select(Refund).order_by(Refund.requested_at))).all():
        refunds[r.contribution_id].append(
            RefundFact(r.out_refund_no, r.status, r.amount_fen, r.requested_at)
        )
    accepted = set(
        (
            await session.scalars(
                select(Posting.contribution_id).where(Posting.state == PostingState.ACCEPTED)
            )
        ).all()
    )
    # Money counts as posted once the agency accepted the posting and the treasury received it.
    posted = {
        t.contribution_id: t.amount_fen
        for t in (await session.scalars(select(TreasuryReceipt))).all()
        if t.contribution_id in accepted
    }
    contributions = tuple(
        ContributionFact(
            id=c.id,
            person_id=c.person_id,
            insurance=c.insurance.value,
            months=tuple(c.months),
            status=c.status,
            total_fen=c.total_fen,
            created_at=c.created_at,
            charged_fen=charged.get(c.id, 0),
            posted_fen=posted.get(c.id, 0),
            refunds=tuple(refunds.get(c.id, ())),
        )
        for c in (await session.scalars(select(Contribution).order_by(Contribution.id))).all()
    )
    return Books(
        contributions=contributions,
        payments=tuple(
            PaymentFact(p.out_trade_no, p.state, p.amount_fen, p.contribution_id) for p in payments
        ),
    )
