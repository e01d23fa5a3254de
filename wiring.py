"""Chooses from settings what a process talks to: the simulators, or the real WeChat Pay adapter;
and registers the payment providers by name."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import Clock
from adapters.mp_messages.client import MpConfig, WeChatMpMessenger
from adapters.payments.registry import PaymentProviders
from adapters.payments.wechatpay import provider as wechatpay
from adapters.payments.wechatpay.callback import CallbackVerifier
from adapters.payments.wechatpay.client import WeChatPayChannel, WeChatPayConfig
from adapters.payments.wechatpay.crypto import (
    MERCHANT_PRIVATE_FILE,
    ensure_key_files,
    jsapi_pay_params,
    load_private_key,
)
from adapters.seams import Adapters
from adapters.wechat.oauth import OAuthConfig, WeChatOAuthClient
from simulators.cashier.backend import SimCashier
from simulators.config import SimConfig
from simulators.mp_messages import MessageSimulator
from simulators.payments import PaymentSimulator
from simulators.posting import PostingSimulator
from simulators.store import create_sim_tables
from simulators.treasury import ReadyDate, TreasurySimulator
from simulators.wechatpay_gateway.admin import GatewayAdmin
from storage.db import make_engine

if TYPE_CHECKING:
    from settings import Settings

# The simulators' engine keeps fewer connections than the app database's (storage.db.POOL_SIZE):
# the API calls them only from the cashier page and the callback deliverer.
SIM_POOL_SIZE = 5
SIM_POOL_OVERFLOW = 10


@dataclass
class Simulators:
    """The stand-ins again, typed, for the cashier page, the callback deliverer and tests."""

    engine: AsyncEngine
    posting: PostingSimulator
    treasury: TreasurySimulator
    # None when the local gateway process owns the payment simulator (and delivers its
    # callbacks over HTTP).
    payments: PaymentSimulator | None
    # The cashier page's backend: the in-process simulator, or the local gateway's admin API.
    cashier: SimCashier | None


@dataclass
class Systems:
    """What a process talks to: the adapters and the simulators behind them.

    Posting and treasury have no real client yet, so the simulators are always there.
    """

    adapters: Adapters
    simulators: Simulators
    # True when the simulators' engine was made here (and is disposed by aclose).
    owns_engine: bool = False

    async def aclose(self) -> None:
        """Dispose the simulators' engine if this object made it."""
        if self.owns_engine:
            await self.simulators.engine.dispose()


def make_sim_engine(
    settings: Settings,
    *,
    pre_ping: bool = True,
    pool_size: int = SIM_POOL_SIZE,
    max_overflow: int = SIM_POOL_OVERFLOW,
) -> AsyncEngine:
    """The simulators' own database, which the API, the worker and the gateway share.

    pre_ping, pool_size and max_overflow as in storage.db.make_engine.
    """
    return make_engine(
        settings.resolved_sim_database_url,
        pre_ping=pre_ping,
        pool_size=pool_size,
        max_overflow=max_overflow,
        durable_commits=False,
    )


@functools.cache
def _merchant_private_key(path: Path, generate_in: Path | None) -> RSAPrivateKey:
    if generate_in is not None:
        ensure_key_files(generate_in)
    return load_private_key(path.read_bytes())


def merchant_private_key(settings: Settings) -> RSAPrivateKey:
    """The merchant's API key (the local gateway's file unless a path is set), read once."""
    if settings.wechatpay_private_key_path is not None:
        return _merchant_private_key(settings.wechatpay_private_key_path, None)
    directory = settings.wechatpay_dir
    return _merchant_private_key(directory / MERCHANT_PRIVATE_FILE, directory)


def merchant_public_key(settings: Settings) -> RSAPublicKey:
    """What WeChat checks the merchant's paySign with (the shim of the pages, too)."""
    return merchant_private_key(settings).public_key()


def jsapi_signer(settings: Settings) -> Callable[[str], dict[str, str]]:
    """Signs JSAPI parameters as the merchant's client would (for the in-process simulator)."""

    def sign(prepay_id: str) -> dict[str, str]:
        return jsapi_pay_params(
            merchant_private_key(settings), settings.wechatpay_appid, prepay_id, int(time.time())
        )

    return sign


def wechat_oauth(settings: Settings) -> WeChatOAuthClient:
    """网页授权 against WeChat, the local gateway, or the API's own simulator (settings)."""
    return WeChatOAuthClient(
        OAuthConfig(
            appid=settings.wechatpay_appid,
            secret=settings.wechat_app_secret,
            oauth_base=settings.resolved_wechat_oauth_base,
            api_base=settings.resolved_wechat_api_base,
            timeout_s=settings.wechat_oauth_timeout_s,
        )
    )


async def build_simulators(
    settings: Settings,
    clock: Clock,
    engine: AsyncEngine | None = None,
    *,
    ready_date: ReadyDate | None = None,
) -> Systems:
    """All three simulators on one database that the API and worker processes share.

    The worker passes activity_clock (time-skippable); the API passes system_clock.
    """
    owns = engine is None
    sim_engine = engine or make_sim_engine(settings)
    await create_sim_tables(sim_engine)
    config = SimConfig.from_settings(settings)
    payments = PaymentSimulator(
        sim_engine, clock, config, base_url=settings.base_url, jsapi_signer=jsapi_signer(settings)
    )
    posting = PostingSimulator(sim_engine, clock, config)
    treasury = TreasurySimulator(sim_engine, clock, config, ready_date=ready_date)
    # The simulator stands in for WeChat Pay, under WeChat Pay's name: a contribution records
    # the provider, not whether a simulator carried it.
    providers = PaymentProviders(wechatpay.provider(payments), default=settings.payment_provider)
    return Systems(
        adapters=Adapters(
            payments=providers,
            posting=posting,
            treasury=treasury,
            messages=MessageSimulator(sim_engine, clock),
            wechat_oauth=wechat_oauth(settings),
        ),
        simulators=Simulators(
            engine=sim_engine,
            posting=posting,
            treasury=treasury,
            payments=payments,
            cashier=payments,
        ),
        owns_engine=owns,
    )


async def build_adapters(
    settings: Settings,
    clock: Clock,
    engine: AsyncEngine | None = None,
    *,
    ready_date: ReadyDate | None = None,
) -> Systems:
    """What settings.payment_channel asks for: all simulators, or the real WeChat Pay adapter
    (posting and treasury stay simulated) — against the local gateway when its URL is set.
    """
    systems = await build_simulators(settings, clock, engine, ready_date=ready_date)
    if settings.payment_channel == "wechatpay":
        config = WeChatPayConfig.from_settings(settings)
        systems.adapters.payments.register(
            wechatpay.provider(WeChatPayChannel(config), CallbackVerifier.from_config(config))
        )
        # Messages go through the 公众号 API (the local gateway's when its URL is set).
        systems.adapters.messages = WeChatMpMessenger(MpConfig.from_settings(settings))
        # The gateway owns the payment simulator (and delivers its callbacks over HTTP).
        systems.simulators.payments = None
        systems.simulators.cashier = (
            GatewayAdmin(settings.wechatpay_gateway_url) if settings.wechatpay_gateway_url else None
        )
    return systems
