"""The policy book in force: the packaged policy file, overlaid with operators' stored documents."""

from __future__ import annotations

from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from domain.policy import AnyPolicy, PolicyBook, PolicyKey, load_policy_set, parse_policy
from storage.policies import list_policies


@cache
def _packaged(province: str) -> dict[PolicyKey, AnyPolicy]:
    """The packaged file never changes while a process runs: read and parse it once.

    Policies are frozen models, so sharing them between books is safe; each book gets its own
    dict (PolicyBook.replace works in place).
    """
    return load_policy_set(province)


async def load_policy_book(session: AsyncSession, province: str = "guizhou") -> PolicyBook:
    """Operators' documents (PUT /operator/policies/{year}) win over the packaged defaults, for
    every (insurance, year)."""
    book = PolicyBook(dict(_packaged(province)))
    # One query for all insurances: the book is read on every options, quote and verdict.
    for row in await list_policies(session):
        book.replace(parse_policy(row.document))
    return book
