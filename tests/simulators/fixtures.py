"""Simulator fixtures: a hand-advanced clock and a fresh PostgreSQL simulator database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.payments.interface import CreateOrder
from domain.vocabulary import Channel
from simulators.config import SimConfig
from simulators.payments import PaymentSimulator
from simulators.store import create_sim_tables
from storage.db import make_engine
from tests.simulators.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))


@pytest.fixture
def sim_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
async def engine(sim_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(sim_url, durable_commits=False)
    await create_sim_tables(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def config() -> SimConfig:
    return SimConfig(
        posting_delay_s=3600,
        refund_delay_s=300,
        bank_card_refund_delay_s=2 * 24 * 3600,
        seed=7,
    )


@pytest.fixture
def payments(engine: AsyncEngine, clock: FakeClock, config: SimConfig) -> PaymentSimulator:
    return PaymentSimulator(engine, clock, config, base_url="http://test")


@pytest.fixture
def make_order(clock: FakeClock) -> Callable[..., CreateOrder]:
    counter = iter(range(1, 10_000))

    def _make(**overrides: object) -> CreateOrder:
        fields: dict[str, object] = {
            "out_trade_no": f"SB2026TEST{next(counter):06d}",
            "description": "贵州省灵活就业人员养老保险 2026-03",
            "amount_fen": 87267,
            "time_expire": clock() + timedelta(minutes=15),
            "channel": Channel.WECHAT_BALANCE,
            "notify_url": "http://test/webhooks/wechatpay",
        }
        fields.update(overrides)
        return CreateOrder.model_validate(fields)

    return _make
