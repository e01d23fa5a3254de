"""The contribution view is the rows' alone: no Temporal is asked, and what only the workflow
knew (the month's holder, the review's reason) is there once the step has written it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from domain.payments import RefundState
from domain.review import refund_review_reason
from domain.vocabulary import ContributionStatus, RejectReason
from services.context import AppState
from services.contribution_view import load_contribution
from services.errors import ServiceError
from services.temporal_link import TemporalLink
from settings import Settings
from storage.contributions import set_status
from tests.storage.conftest import later, make_contribution, make_person

S = ContributionStatus


class NoTemporal(TemporalLink):
    """Temporal is never there: a read that asked it would see nothing."""

    async def connect(self) -> Client | None:
        raise AssertionError("a status read asked Temporal")


def state_over(sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path) -> AppState:
    settings = Settings(env="test", data_dir=tmp_path, simulators=False)
    return AppState(
        settings=settings,
        sessions=sessionmaker,
        temporal=NoTemporal(settings),
        adapters=None,
        today=lambda: date(2026, 3, 1),
    )


async def test_a_rejected_contribution_names_the_holder_of_its_month(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-late", ["2026-01"])
    async with sessionmaker.begin() as db:
        await set_status(
            db,
            "c-late",
            S.REJECTED,
            later(1),
            reject_reason=RejectReason.MONTH_IN_FLIGHT,
            holder_contribution_id="c-first",
        )
    view = await load_contribution(state_over(sessionmaker, tmp_path), "c-late", person)
    assert view.status == "REJECTED"
    assert view.reject_reason == "MONTH_IN_FLIGHT"
    assert view.holder_contribution_id == "c-first"
    assert [t.status for t in view.timeline] == ["VERIFYING", "REJECTED"]


async def test_a_contribution_in_review_says_why(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-review", ["2026-01"])
    reason = refund_review_reason(RefundState.ABNORMAL)
    async with sessionmaker.begin() as db:
        await set_status(db, "c-review", S.MANUAL_REVIEW, later(1), review_reason=reason)
    view = await load_contribution(state_over(sessionmaker, tmp_path), "c-review", None)
    assert view.status == "MANUAL_REVIEW"
    assert view.review_reason == reason


async def test_someone_else_cannot_read_it(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    person = await make_person(sessionmaker)
    other = await make_person(sessionmaker, 2)
    await make_contribution(sessionmaker, person, "c-mine", ["2026-01"])
    with pytest.raises(ServiceError) as refused:
        await load_contribution(state_over(sessionmaker, tmp_path), "c-mine", other)
    assert (refused.value.status_code, refused.value.code) == (404, "CONTRIBUTION_NOT_FOUND")
