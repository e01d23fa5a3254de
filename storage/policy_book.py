"""The policy book in force: the packaged policy file, overlaid with operators' stored documents."""

from __future__ import annotations

from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from domain.policy import Policy, PolicyBook, load_policy_file, parse_policy
from storage.policies import get_policy_documents


@cache
def _packaged(province: str) -> dict[int, Policy]:
    """The packaged file never changes while a process runs: read and parse it once.

    Policies are frozen models, so sharing them between books is safe; each book gets its own
    dict (PolicyBook.replace works in place).
    """
    return load_policy_file(province)


async def load_policy_book(session: AsyncSession, province: str = "guizhou") -> PolicyBook:
    """Operators' documents (PUT /operator/policies/{year}) win over the packaged defaults."""
    book = PolicyBook(dict(_packaged(province)))
    for document in (await get_policy_documents(session)).values():
        book.replace(parse_policy(document))
    return book
