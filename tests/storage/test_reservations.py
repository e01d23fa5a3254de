"""Month reservations: a month is never in two live contributions, even under races."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import PAID_STATUSES, ContributionStatus, Insurance, RejectReason
from storage.contributions import (
    MonthsTaken,
    get_contribution,
    held_months,
    release_months,
    reserve_months,
    set_status,
)
from storage.models import Person
from tests.storage.conftest import later, make_contribution, make_person

S = ContributionStatus
PENSION = Insurance.PENSION


async def reserve(
    sm: async_sessionmaker[AsyncSession], person: Person, contribution_id: str, months: list[str]
) -> None:
    async with sm.begin() as session:
        await reserve_months(
            session,
            contribution_id=contribution_id,
            person_id=person.id,
            insurance=PENSION,
            months=months,
            at=later(1),
        )


async def held(sm: async_sessionmaker[AsyncSession], person: Person) -> dict[str, str]:
    async with sm() as session:
        return {m: c for m, (c, _) in (await held_months(session, person.id, PENSION)).items()}


async def test_a_month_cannot_be_reserved_by_two_live_contributions(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    await make_contribution(sessionmaker, person, "c-2", ["2026-02", "2026-03"])
    await reserve(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    with pytest.raises(MonthsTaken) as taken:
        await reserve(sessionmaker, person, "c-2", ["2026-02", "2026-03"])
    assert taken.value.contribution_id == "c-1"
    assert taken.value.months == ["2026-02"]
    # All or nothing: 2026-03 was not reserved for c-2 either.
    assert await held(sessionmaker, person) == {"2026-01": "c-1", "2026-02": "c-1"}


async def test_reserving_again_for_the_same_contribution_is_fine(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    await reserve(sessionmaker, person, "c-1", ["2026-01"])
    await reserve(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    await reserve(sessionmaker, person, "c-1", ["2026-02", "2026-01"])
    assert await held(sessionmaker, person) == {"2026-01": "c-1", "2026-02": "c-1"}


async def test_months_of_another_person_or_insurance_do_not_collide(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    alice = await make_person(sessionmaker, 1)
    bob = await make_person(sessionmaker, 2)
    await make_contribution(sessionmaker, alice, "c-a", ["2026-01"])
    await make_contribution(sessionmaker, bob, "c-b", ["2026-01"])
    await reserve(sessionmaker, alice, "c-a", ["2026-01"])
    await reserve(sessionmaker, bob, "c-b", ["2026-01"])
    assert await held(sessionmaker, alice) == {"2026-01": "c-a"}
    assert await held(sessionmaker, bob) == {"2026-01": "c-b"}


async def test_released_month_can_be_reserved_again(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    await make_contribution(sessionmaker, person, "c-2", ["2026-02"])
    await reserve(sessionmaker, person, "c-1", ["2026-01", "2026-02"])
    async with sessionmaker.begin() as session:
        await set_status(session, "c-1", S.EXPIRED, later(20))
        assert await release_months(session, "c-1") == 2
    async with sessionmaker.begin() as session:
        assert await release_months(session, "c-1") == 0  # a retry frees nothing more
    await reserve(sessionmaker, person, "c-2", ["2026-02"])
    assert await held(sessionmaker, person) == {"2026-02": "c-2"}


async def test_held_months_tell_paid_from_in_flight(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-paid", ["2026-01"], status=S.COMPLETED)
    await make_contribution(sessionmaker, person, "c-open", ["2026-02"], status=S.VERIFYING)
    await reserve(sessionmaker, person, "c-paid", ["2026-01"])
    await reserve(sessionmaker, person, "c-open", ["2026-02"])
    async with sessionmaker() as session:
        months = await held_months(session, person.id, PENSION)
    assert months == {"2026-01": ("c-paid", S.COMPLETED), "2026-02": ("c-open", S.VERIFYING)}
    assert months["2026-01"][1] in PAID_STATUSES
    assert months["2026-02"][1] not in PAID_STATUSES


async def test_concurrent_reservations_of_the_same_month_let_exactly_one_win(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    ids = [f"c-{n}" for n in range(6)]
    for contribution_id in ids:
        await make_contribution(sessionmaker, person, contribution_id, ["2026-01", "2026-02"])

    outcomes = await asyncio.gather(
        *(reserve(sessionmaker, person, cid, ["2026-01", "2026-02"]) for cid in ids),
        return_exceptions=True,
    )

    winners = [cid for cid, outcome in zip(ids, outcomes, strict=True) if outcome is None]
    losers = [outcome for outcome in outcomes if outcome is not None]
    assert len(winners) == 1
    taken = [loser for loser in losers if isinstance(loser, MonthsTaken)]
    assert taken == losers, losers
    assert {loser.contribution_id for loser in taken} == {winners[0]}
    assert await held(sessionmaker, person) == {"2026-01": winners[0], "2026-02": winners[0]}


async def test_a_reservation_racing_an_uncommitted_one_loses_and_its_transaction_goes_on(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The loser waits for the winner's commit, then gets MonthsTaken (its insert skipped the
    held month, and the month it did take is given back) and can still finish its own
    transaction."""
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-first", ["2026-01"])
    await make_contribution(sessionmaker, person, "c-second", ["2026-01", "2026-02"])

    async def second() -> MonthsTaken:
        async with sessionmaker.begin() as session:
            try:
                await reserve_months(
                    session,
                    contribution_id="c-second",
                    person_id=person.id,
                    insurance=PENSION,
                    months=["2026-01", "2026-02"],
                )
            except MonthsTaken as exc:
                await set_status(
                    session,
                    "c-second",
                    S.REJECTED,
                    later(2),
                    reject_reason=RejectReason.MONTH_IN_FLIGHT,
                )
                return exc
        raise AssertionError("the second reservation should have lost")

    async with sessionmaker.begin() as session:
        await reserve_months(
            session,
            contribution_id="c-first",
            person_id=person.id,
            insurance=PENSION,
            months=["2026-01"],
        )
        loser = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not loser.done(), "the second reservation must wait for the first to commit"

    taken = await asyncio.wait_for(loser, timeout=10)
    assert (taken.contribution_id, taken.months) == ("c-first", ["2026-01"])
    assert await held(sessionmaker, person) == {"2026-01": "c-first"}
    async with sessionmaker() as session:
        rejected = await get_contribution(session, "c-second")
    assert rejected is not None and rejected.status == S.REJECTED


async def test_a_failed_reservation_leaves_the_outer_transaction_usable(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-1", ["2026-01"])
    await make_contribution(sessionmaker, person, "c-2", ["2026-01", "2026-02"])
    await reserve(sessionmaker, person, "c-1", ["2026-01"])
    async with sessionmaker.begin() as session:
        await set_status(session, "c-2", S.VERIFYING, later(1), "checking")
        with pytest.raises(MonthsTaken):
            await reserve_months(
                session,
                contribution_id="c-2",
                person_id=person.id,
                insurance=PENSION,
                months=["2026-01", "2026-02"],
            )
        await set_status(session, "c-2", S.REJECTED, later(2))
    async with sessionmaker() as session:
        c2 = await get_contribution(session, "c-2")
    assert c2 is not None and c2.status == S.REJECTED
    assert await held(sessionmaker, person) == {"2026-01": "c-1"}


async def test_reservations_roll_back_with_the_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The reservation is part of the caller's transaction: a later failure undoes it too."""
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-1", ["2026-01"])
    with pytest.raises(RuntimeError):
        async with sessionmaker.begin() as session:
            await reserve_months(
                session,
                contribution_id="c-1",
                person_id=person.id,
                insurance=PENSION,
                months=["2026-01"],
            )
            raise RuntimeError("the activity failed after reserving")
    assert await held(sessionmaker, person) == {}
