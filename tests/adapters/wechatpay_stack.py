"""A local WeChat Pay gateway on a free loopback port, and the real adapter pointed at it."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from adapters.clock import Clock
from adapters.payments.wechatpay.client import WeChatPayChannel, WeChatPayConfig
from adapters.payments.wechatpay.crypto import ensure_key_files
from settings import Settings
from simulators.config import SimConfig
from simulators.payments import PaymentSimulator
from simulators.store import create_sim_tables
from simulators.wechatpay_gateway.admin import GatewayAdmin
from simulators.wechatpay_gateway.app import create_gateway_app
from simulators.wechatpay_gateway.config import GatewayConfig, Switches
from simulators.wechatpay_gateway.notifier import Deliverer
from simulators.wechatpay_gateway.server import gateway_config, serving
from tests.pg import fresh_databases
from wiring import make_sim_engine

APIV3_KEY = "0123456789abcdefghijklmnopqrstuv"
# Short enough that a forced TIMEOUT_* call (the gateway stalls 1.5 s) times out on our side.
READ_TIMEOUT_S = 0.5


@dataclass
class Gateway:
    url: str
    app: FastAPI
    sim: PaymentSimulator
    config: GatewayConfig
    channel: WeChatPayChannel
    channel_config: WeChatPayConfig
    admin: GatewayAdmin

    @property
    def switches(self) -> Switches:
        switches: Switches = self.app.state.switches
        return switches

    @property
    def deliverer(self) -> Deliverer:
        deliverer: Deliverer = self.app.state.deliverer
        return deliverer


_KEYS: dict[str, bytes] = {}


def _install_keys(directory: Path) -> None:
    """RSA generation costs most of a second: generate once per test run, copy after."""
    if not _KEYS:
        source = directory.parent / "generated-keys"
        ensure_key_files(source)
        _KEYS.update({p.name: p.read_bytes() for p in source.glob("*.pem")})
    directory.mkdir(parents=True, exist_ok=True)
    for name, pem in _KEYS.items():
        (directory / name).write_bytes(pem)


def gateway_settings(data_dir: Path, **extra: object) -> Settings:
    fields: dict[str, object] = {
        "env": "test",
        "data_dir": data_dir,
        **fresh_databases(),
        "wechatpay_apiv3_key": APIV3_KEY,
        "public_base_url": "http://cashier.test",
        **extra,
    }
    settings = Settings.model_validate(fields)
    _install_keys(settings.wechatpay_dir)
    return settings


@contextlib.asynccontextmanager
async def running_gateway(
    settings: Settings,
    clock: Clock,
    sim_config: SimConfig,
    *,
    deliver: bool = True,
    **overrides: float,
) -> AsyncIterator[Gateway]:
    """The gateway app served in-process, over a simulator on the settings' database."""
    engine = make_sim_engine(settings)
    await create_sim_tables(engine)
    try:
        sim = PaymentSimulator(engine, clock, sim_config, base_url=settings.base_url)
        config = gateway_config(
            settings, **{"stall_s": 1.5, "deliver_interval_s": 0.05, **overrides}
        )
        app = create_gateway_app(config, sim, clock=clock, deliver=deliver)
        async with serving(app) as url:
            channel_config = dataclasses.replace(
                WeChatPayConfig.from_settings(settings),
                gateway_url=url,
                read_timeout_s=READ_TIMEOUT_S,
            )
            yield Gateway(
                url=url,
                app=app,
                sim=sim,
                config=config,
                channel=WeChatPayChannel(channel_config),
                channel_config=channel_config,
                admin=GatewayAdmin(url),
            )
    finally:
        await engine.dispose()
