"""A verified callback while the database restarts is "retry later", never an unexpected error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from adapters.payments.interface import PaymentNotification
from domain.payments import PaymentState
from scripts.local_postgres import free_port
from services.context import AppState
from services.notifications import Intake, intake_callback
from services.temporal_link import TemporalLink
from settings import Settings
from storage.db import make_engine, make_sessionmaker
from tests.storage.test_db_disconnects import drop_every_connection_but_the_admins

pytestmark = pytest.mark.postgres


class NoTemporal(TemporalLink):
    async def connect(self) -> Client | None:
        raise AssertionError("the callback got past the database")


def state_on(url: str, tmp_path: Path, *, pre_ping: bool = True) -> tuple[AppState, AsyncEngine]:
    settings = Settings(env="test", data_dir=tmp_path, simulators=False)
    engine = make_engine(url, pre_ping=pre_ping)
    state = AppState(
        settings=settings,
        sessions=make_sessionmaker(engine),
        temporal=NoTemporal(settings),
        adapters=None,
        today=lambda: date(2026, 3, 1),
    )
    return state, engine


PAID = PaymentNotification(
    event_id="EV-restart-1",
    event_type="TRANSACTION.SUCCESS",
    out_trade_no="SBrestart0001",
    out_refund_no=None,
    transaction_id="4200000001",
    state=PaymentState.PAID,
    provider_state="SUCCESS",
    refund_status=None,
    amount_fen=100,
    success_time=datetime(2026, 3, 1, tzinfo=UTC),
    bank_type="OTHERS",
    create_time=datetime(2026, 3, 1, tzinfo=UTC),
)


async def test_a_callback_while_the_database_is_down_is_retried_later(tmp_path: Path) -> None:
    # The server between kill and restart: nothing listens on its port.
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/shebao"
    state, engine = state_on(url, tmp_path)
    try:
        assert await intake_callback(state, PAID, 100) is Intake.RETRY_LATER
    finally:
        await engine.dispose()


async def test_a_callback_on_a_connection_the_restart_dropped_is_retried_later(
    db_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    # What the crash run met: pooled connections died under the API when PostgreSQL was killed.
    state, unpinged = state_on(db_url, tmp_path, pre_ping=False)
    try:
        async with state.sessions() as db:
            await db.connection()  # one connection in the pool
        await drop_every_connection_but_the_admins(db_url)
        assert await intake_callback(state, PAID, 100) is Intake.RETRY_LATER
    finally:
        await unpinged.dispose()


async def test_any_other_database_error_still_surfaces(postgres_url: str, tmp_path: Path) -> None:
    # An unmigrated database: no payments table, a fault no retry mends.
    state, engine = state_on(postgres_url, tmp_path)
    try:
        with pytest.raises(DBAPIError):
            await intake_callback(state, PAID, 100)
    finally:
        await engine.dispose()
