"""Policy documents, quotes and the audit log."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import Insurance
from storage.audit import audit, audit_entries
from storage.policies import get_policy_documents, list_policies, put_policy_document
from storage.quotes import add_quote, get_quote
from tests.storage.conftest import later, lines_for, make_person

DOC_2024 = {"year": 2024, "rate": "0.20", "floor_fen": 436335, "grades": [60, 100, 300]}


async def test_policy_documents_are_stored_replaced_and_audited(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await put_policy_document(session, 2024, DOC_2024, False, "loader", at=later(1))
        await put_policy_document(
            session, 2025, {**DOC_2024, "year": 2025}, True, "loader", at=later(2)
        )
    replacement = {**DOC_2024, "year": 2025, "floor_fen": 450000}
    async with sessionmaker.begin() as session:
        await put_policy_document(session, 2025, replacement, False, "operator:7", at=later(9))
    async with sessionmaker() as session:
        documents = await get_policy_documents(session)
        policies = await list_policies(session)
        entries = await audit_entries(session, subject="policy:pension:2025")
    assert documents == {2024: DOC_2024, 2025: replacement}
    assert [(p.year, p.provisional, p.updated_by) for p in policies] == [
        (2024, False, "loader"),
        (2025, False, "operator:7"),
    ]
    assert [e.actor for e in entries] == ["operator:7", "loader"]
    assert entries[0].detail["provisional"] is False
    assert len(entries[0].detail["sha256"]) == 64


async def test_a_quote_round_trips(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    person = await make_person(sessionmaker)
    async with sessionmaker.begin() as session:
        quote = await add_quote(
            session,
            person_id=person.id,
            insurance=Insurance.PENSION,
            months=["2026-01", "2026-02"],
            grade=60,
            back_payment=True,
            lines=lines_for(["2026-01", "2026-02"]),
            total_fen=2 * 87267,
            created_at=later(0),
            expires_at=later(30),
        )
    assert quote.id.startswith("q_")
    async with sessionmaker() as session:
        stored = await get_quote(session, quote.id)
        assert await get_quote(session, "q_missing") is None
    assert stored is not None
    assert (stored.months, stored.lines, stored.total_fen, stored.expires_at) == (
        ["2026-01", "2026-02"],
        lines_for(["2026-01", "2026-02"]),
        2 * 87267,
        later(30),
    )
    assert stored.requested_by_person_id is None


async def test_audit_entries_are_listed_newest_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        for n in range(3):
            await audit(
                session,
                actor="operator:1",
                action="contribution.redrive",
                subject=f"contribution:c-{n}",
                detail={"n": n},
                at=later(n),
            )
    async with sessionmaker() as session:
        entries = await audit_entries(session, limit=2)
    assert [e.detail["n"] for e in entries] == [2, 1]
