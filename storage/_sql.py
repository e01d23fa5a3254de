"""Small SQL helpers the repositories share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, inspect
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base


def table_of(model: type[Base]) -> Table:
    """A mapped class's Core table, for statements that skip the ORM's per-object work."""
    return cast(Table, model.__table__)


async def insert_ignore(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert rows, skipping any that collide with an existing key; returns how many went in.

    This is what makes retried writes idempotent. It is race-safe: a concurrent insert of the
    same key waits for the other transaction and then skips.
    """
    if not rows:
        return 0
    # The Core table, not the mapped class: an ORM-enabled INSERT goes through the ORM's bulk
    # machinery, which cost more than the statement (these inserts are on every step's path).
    table = table_of(model)
    stmt = insert(table).values(list(rows)).on_conflict_do_nothing()
    # RETURNING lists only the rows actually inserted; rowcount is unreliable across drivers.
    pk = inspect(model).primary_key[0]
    result = await session.execute(stmt.returning(pk))
    return len(result.all())
