"""Choosing simulators or real adapters from settings (wiring.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text

import simulators.store as sim_store
from adapters.payments.wechatpay.callback import CallbackVerifier
from adapters.payments.wechatpay.client import WeChatPayChannel
from settings import Settings
from simulators.payments import PaymentSimulator
from simulators.wechatpay_gateway.admin import GatewayAdmin
from tests.adapters.wechatpay_stack import gateway_settings
from tests.simulators.fakes import FakeClock
from wiring import build_adapters, build_simulators


async def test_build_simulators_creates_their_database_from_settings(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", public_base_url="http://demo", sim_database_url=postgres_url
    )
    clock = FakeClock(datetime(2026, 3, 2, tzinfo=UTC))
    systems = await build_simulators(settings, clock)
    try:
        sims = systems.simulators
        assert isinstance(sims.payments, PaymentSimulator)
        # The simulator stands in for WeChat Pay under its name, taking no HTTP callbacks.
        wechatpay = systems.adapters.payments.get("wechatpay")
        assert wechatpay.channel is sims.payments is sims.cashier
        assert systems.adapters.payments.default is wechatpay
        assert systems.adapters.posting is sims.posting
        assert systems.adapters.treasury is sims.treasury
        assert wechatpay.callbacks is None
        assert sims.payments.cashier_url("SB1") == "http://demo/sim/cashier/SB1"
        async with sims.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert tables >= set(sim_store.metadata.tables)
            # Stand-ins for remote systems: no wait for the disk at every commit.
            assert (await conn.scalar(text("SHOW synchronous_commit"))) == "off"
    finally:
        await systems.aclose()


async def test_the_wechatpay_channel_puts_the_real_adapter_in_front_of_the_gateway(
    tmp_path: Path,
) -> None:
    settings = gateway_settings(
        tmp_path, payment_channel="wechatpay", wechatpay_gateway_url="http://127.0.0.1:9"
    )
    systems = await build_adapters(settings, FakeClock(datetime(2026, 3, 2, tzinfo=UTC)))
    try:
        wechatpay = systems.adapters.payments.get("wechatpay")
        assert isinstance(wechatpay.channel, WeChatPayChannel)
        assert isinstance(wechatpay.callbacks, CallbackVerifier)
        # The gateway process owns the payment simulator; the cashier page asks it over HTTP.
        assert systems.simulators.payments is None
        assert isinstance(systems.simulators.cashier, GatewayAdmin)
        assert systems.adapters.posting is systems.simulators.posting
    finally:
        await systems.aclose()
