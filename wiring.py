"""Builds the adapters a process uses: simulators on a shared database, or the real WeChat Pay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import Clock
from adapters.payments.interface import PaymentChannel
from adapters.payments.wechatpay.callback import CallbackVerifier
from adapters.payments.wechatpay.client import WeChatPayChannel, WeChatPayConfig
from adapters.posting.interface import PostingSystem
from adapters.treasury.interface import Treasury
from simulators.cashier.backend import SimCashier
from simulators.config import SimConfig
from simulators.payments import PaymentSimulator
from simulators.posting import PostingSimulator
from simulators.store import create_sim_engine, create_sim_tables
from simulators.treasury import ReadyDate, TreasurySimulator
from simulators.wechatpay_gateway.admin import GatewayAdmin

if TYPE_CHECKING:
    from settings import Settings


@dataclass
class Adapters:
    payments: PaymentChannel
    posting: PostingSystem
    treasury: Treasury
    # The simulators again, typed, for the simulated cashier page, the callback deliverer and
    # tests; None when a real system is wired in.
    payment_sim: PaymentSimulator | None = None
    posting_sim: PostingSimulator | None = None
    treasury_sim: TreasurySimulator | None = None
    sim_engine: AsyncEngine | None = None
    owns_sim_engine: bool = False
    # The cashier page's backend: the in-process simulator, or the local gateway's admin API.
    cashier: SimCashier | None = None
    # Verifies WeChat Pay callbacks; None when the channel is the in-process simulator.
    wechatpay_callbacks: CallbackVerifier | None = None

    async def aclose(self) -> None:
        """Dispose the simulator engine if this object created it."""
        if self.owns_sim_engine and self.sim_engine is not None:
            await self.sim_engine.dispose()


async def build_simulators(
    settings: Settings,
    clock: Clock,
    engine: AsyncEngine | None = None,
    *,
    ready_date: ReadyDate | None = None,
) -> Adapters:
    """All three simulators on one database that the API and worker processes share.

    The worker passes activity_clock (time-skippable); the API passes system_clock.
    """
    owns = engine is None
    sim_engine = engine or create_sim_engine(settings.resolved_sim_database_url)
    await create_sim_tables(sim_engine)
    config = SimConfig.from_settings(settings)
    payment_sim = PaymentSimulator(sim_engine, clock, config, base_url=settings.base_url)
    posting_sim = PostingSimulator(sim_engine, clock, config)
    treasury_sim = TreasurySimulator(sim_engine, clock, config, ready_date=ready_date)
    return Adapters(
        payments=payment_sim,
        posting=posting_sim,
        treasury=treasury_sim,
        payment_sim=payment_sim,
        posting_sim=posting_sim,
        treasury_sim=treasury_sim,
        sim_engine=sim_engine,
        owns_sim_engine=owns,
        cashier=payment_sim,
    )


async def build_adapters(
    settings: Settings,
    clock: Clock,
    engine: AsyncEngine | None = None,
    *,
    ready_date: ReadyDate | None = None,
) -> Adapters:
    """What settings.payment_channel asks for: all simulators, or the real WeChat Pay adapter
    (posting and treasury stay simulated) — against the local gateway when its URL is set.
    """
    adapters = await build_simulators(settings, clock, engine, ready_date=ready_date)
    if settings.payment_channel == "wechatpay":
        config = WeChatPayConfig.from_settings(settings)
        adapters.payments = WeChatPayChannel(config)
        adapters.wechatpay_callbacks = CallbackVerifier.from_config(config)
        # The gateway owns the payment simulator (and delivers its callbacks over HTTP).
        adapters.payment_sim = None
        adapters.cashier = (
            GatewayAdmin(settings.wechatpay_gateway_url) if settings.wechatpay_gateway_url else None
        )
    return adapters
