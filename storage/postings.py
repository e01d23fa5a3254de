"""Postings (记账) of contributions at the social-insurance agency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import PostingState
from storage._sql import insert_ignore
from storage.errors import NotFound
from storage.models import Posting


async def upsert_posting(
    session: AsyncSession,
    *,
    contribution_id: str,
    posting_id: str,
    state: PostingState,
    reason: str | None = None,
    at: datetime,
) -> Posting:
    """Record a submission or the agency's answer to it; idempotent under retry.

    A repeated PENDING for the same posting_id does not undo an answer already recorded; a new
    posting_id (a resubmission) starts over.
    """
    await insert_ignore(
        session,
        Posting,
        [
            {
                "contribution_id": contribution_id,
                "posting_id": posting_id,
                "state": state,
                "reason": reason,
                "submitted_at": at,
                "confirmed_at": at if state == PostingState.ACCEPTED else None,
            }
        ],
    )
    posting = await session.get(
        Posting, contribution_id, with_for_update=True, populate_existing=True
    )
    if posting is None:  # pragma: no cover - inserted just above or earlier
        raise NotFound("posting", contribution_id)
    if posting.posting_id != posting_id:
        posting.posting_id = posting_id
        posting.state = state
        posting.reason = reason
        posting.submitted_at = at
        posting.confirmed_at = at if state == PostingState.ACCEPTED else None
    elif posting.state != state and not (
        state == PostingState.PENDING and posting.state != PostingState.PENDING
    ):
        posting.state = state
        posting.reason = reason
        if state == PostingState.ACCEPTED:
            posting.confirmed_at = at
    await session.flush()
    return posting


async def get_posting(session: AsyncSession, contribution_id: str) -> Posting | None:
    return await session.get(Posting, contribution_id)
