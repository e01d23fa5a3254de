"""Behaviour of the social-insurance posting (记账) simulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.errors import ConflictError, NotFoundError
from adapters.posting.interface import PostingRequest, PostingSystem
from domain.vocabulary import PostingState
from simulators.config import SimConfig
from simulators.posting import REJECTION_REASONS, PostingSimulator
from tests.simulators.fakes import FakeClock


def posting(ref: str = "c-0001", amount_fen: int = 87267) -> PostingRequest:
    return PostingRequest(
        posting_ref=ref,
        payer_ref="pr-5f1c",
        insurance="pension",
        months=["2026-01", "2026-02"],
        amount_fen=amount_fen,
        paid_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    )


@pytest.fixture
def postings(engine: AsyncEngine, clock: FakeClock, config: SimConfig) -> PostingSimulator:
    return PostingSimulator(engine, clock, config)


async def test_posting_accepted_after_delay(postings: PostingSimulator, clock: FakeClock) -> None:
    system: PostingSystem = postings
    submitted = await system.submit(posting())
    assert submitted.state == PostingState.PENDING
    assert submitted.confirmed_at is None

    clock.advance(minutes=59)
    assert (await system.status(submitted.posting_id)).state == PostingState.PENDING
    ready = clock.advance(minutes=1)
    accepted = await system.status(submitted.posting_id)

    assert accepted.state == PostingState.ACCEPTED
    assert accepted.confirmed_at == ready
    assert accepted.reason is None
    clock.advance(days=3)
    assert await system.status(submitted.posting_id) == accepted


async def test_posting_submit_is_idempotent_per_posting_ref(postings: PostingSimulator) -> None:
    first = await postings.submit(posting())
    again = await postings.submit(posting())
    assert again == first
    with pytest.raises(ConflictError):
        await postings.submit(posting(amount_fen=1))
    with pytest.raises(NotFoundError):
        await postings.status("JZ-UNKNOWN")


async def test_posting_failure_rate_is_deterministic_per_posting(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    config = SimConfig(posting_delay_s=0, posting_failure_rate=0.5, seed=11)
    sim = PostingSimulator(engine, clock, config)
    # The same seed in another process (or after a restart) must decide the same way.
    twin = PostingSimulator(engine, clock, SimConfig(posting_failure_rate=0.5, seed=11))

    results = {ref: await sim.submit(posting(ref)) for ref in (f"c-{i:04d}" for i in range(40))}

    rejected = [r for r in results.values() if r.state == PostingState.REJECTED]
    assert 5 < len(rejected) < 35
    assert all(r.reason in REJECTION_REASONS for r in rejected)
    for ref, result in results.items():
        assert await twin.submit(posting(ref)) == result  # a retry sees the same outcome
        expected = config.draw("posting", ref) < 0.5
        assert (result.state == PostingState.REJECTED) is expected


async def test_forced_posting_rejection_has_chinese_reason(
    postings: PostingSimulator, clock: FakeClock
) -> None:
    await postings.force(40000, "REJECTED", reason="参保状态异常，记账失败")
    submitted = await postings.submit(posting("c-forced", amount_fen=40000))
    clock.advance(hours=1)

    result = await postings.status(submitted.posting_id)

    assert result.state == PostingState.REJECTED
    assert result.reason == "参保状态异常，记账失败"
    assert result.confirmed_at is None
    await postings.force(40000, "ACCEPTED")  # replaces the standing rejection
    other = await postings.submit(posting("c-forced-2", amount_fen=40000))
    clock.advance(hours=1)
    assert (await postings.status(other.posting_id)).state == PostingState.ACCEPTED
