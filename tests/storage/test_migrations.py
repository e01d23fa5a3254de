"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.payments import PaymentState
from storage.db import (
    LOCK_TIMEOUT_MS,
    STORAGE_DIR,
    alembic_config,
    make_engine,
    upgrade_database,
)
from storage.models import Base, Payment
from tests.storage.conftest import make_contribution, make_person

REPO = STORAGE_DIR.parent


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_upgrading_twice_changes_nothing(db_url: str, engine: AsyncEngine) -> None:
    await upgrade_database(db_url)
    async with engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    # The single head of the revision chain, whichever revision that is today.
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_concurrent_upgrades_of_a_fresh_database_both_succeed(db_url: str) -> None:
    await asyncio.gather(upgrade_database(db_url), upgrade_database(db_url))
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()


def _downgrade_to_base(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "base")


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_downgrade_removes_every_table_and_upgrade_restores_them(
    db_url: str, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade_to_base)
    async with engine.connect() as conn:
        assert await conn.run_sync(_table_names) <= {"alembic_version"}
    await upgrade_database(db_url)
    async with engine.connect() as conn:
        assert await conn.run_sync(_table_names) >= set(Base.metadata.tables)


async def test_connections_wait_for_a_lock_no_longer_than_the_lock_timeout(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        waited = (await conn.execute(text("SHOW lock_timeout"))).scalar()
    assert waited == f"{LOCK_TIMEOUT_MS // 1000}s"


def _env_for(url: str) -> dict[str, str]:
    env = {**os.environ, "SHEBAO_DATABASE_URL": url}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


async def _tables_at(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_table_names)
    finally:
        await engine.dispose()


async def test_python_m_storage_migrate_upgrades_the_configured_database(
    tmp_path: Path, db_url: str
) -> None:
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "storage.migrate"],
        cwd=tmp_path,
        env=_env_for(db_url),
        check=True,
        timeout=60,
    )
    assert await _tables_at(db_url) >= set(Base.metadata.tables) | {"alembic_version"}


async def test_alembic_cli_upgrades_the_configured_database(tmp_path: Path, db_url: str) -> None:
    alembic = Path(sys.executable).with_name("alembic")
    await asyncio.to_thread(
        subprocess.run,
        [str(alembic), "-c", str(STORAGE_DIR / "alembic.ini"), "upgrade", "head"],
        cwd=tmp_path,
        env=_env_for(db_url),
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert await _tables_at(db_url) >= set(Base.metadata.tables)


def _to_0005(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0005")


async def test_0006_gives_existing_wechat_orders_their_provider_and_our_state(
    db_url: str, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-old", ["2026-01"])
    async with engine.begin() as conn:
        await conn.run_sync(_to_0005)
        # An order as 0005 kept it: WeChat's trade_state only.
        await conn.execute(
            text(
                "INSERT INTO payments (out_trade_no, contribution_id, channel, amount_fen,"
                " expires_at, trade_state, created_at, updated_at) VALUES"
                " ('SBold', 'c-old', 'wechat_balance', 100, now(), 'REFUND', now(), now())"
            )
        )
    await upgrade_database(db_url)
    async with sessionmaker() as session:
        row = await session.get(Payment, "SBold")
    assert row is not None
    assert (row.provider, row.product, row.state, row.provider_state) == (
        "wechatpay",
        "h5",
        PaymentState.REFUNDED,
        "REFUND",
    )
