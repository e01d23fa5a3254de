"""Small SQL helpers the repositories share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, inspect, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base

M = TypeVar("M", bound=Base)


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


async def insert_or_get(
    session: AsyncSession, model: type[M], row: Mapping[str, Any]
) -> tuple[M, bool]:
    """Insert the row unless its key exists; the stored object, and whether this inserted it.

    As insert_ignore, but the inserted row comes back from the INSERT itself (RETURNING), so a
    first call is one round trip; a retry, which finds the row, reads it as session.get does.
    """
    table = table_of(model)
    stmt = insert(table).values(dict(row)).on_conflict_do_nothing().returning(*table.c)
    inserted = (await session.execute(select(model).from_statement(stmt))).scalar_one_or_none()
    if inserted is not None:
        return inserted, True
    key = tuple(row[str(column.key)] for column in inspect(model).primary_key)
    stored = await session.get(model, key if len(key) > 1 else key[0])
    if stored is None:  # pragma: no cover - a key that collided is there
        raise LookupError(f"{table.name}: the row that collided is gone")
    return stored, False
