"""Small portable SQL helpers the repositories share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base


def table_of(model: type[Base]) -> Table:
    """A mapped class's Core table, for statements that skip the ORM's per-object work."""
    return cast(Table, model.__table__)


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def insert_ignore(
    session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert rows, skipping any that collide with an existing key; returns how many went in.

    This is what makes retried writes idempotent. It is race-safe: on PostgreSQL a concurrent
    insert of the same key waits for the other transaction and then skips.
    """
    if not rows:
        return 0
    # The Core table, not the mapped class: an ORM-enabled INSERT goes through the ORM's bulk
    # machinery, which cost more than the statement (these inserts are on every step's path).
    table = table_of(model)
    name = dialect_name(session)
    if name in ("postgresql", "sqlite"):
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        stmt = dialect_insert(table).values(list(rows)).on_conflict_do_nothing()
        # RETURNING lists only the rows actually inserted; rowcount is unreliable across drivers.
        pk = inspect(model).primary_key[0]
        result = await session.execute(stmt.returning(pk))
        return len(result.all())
    # Other backends: one savepoint per row, so a collision undoes only that row.
    inserted = 0
    for row in rows:
        try:
            async with session.begin_nested():
                await session.execute(insert(table).values(dict(row)))
        except IntegrityError:
            continue
        inserted += 1
    return inserted
