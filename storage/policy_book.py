"""The policy book in force: the packaged policy file, overlaid with operators' stored documents."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.policy import PolicyBook, parse_policy
from storage.policies import get_policy_documents


async def load_policy_book(session: AsyncSession, province: str = "guizhou") -> PolicyBook:
    """Operators' documents (PUT /operator/policies/{year}) win over the packaged defaults."""
    book = PolicyBook.from_file(province)
    for document in (await get_policy_documents(session)).values():
        book.replace(parse_policy(document))
    return book
