"""Builds the gateway from settings and serves it with uvicorn (in-process or as a process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.clock import Clock, system_clock
from simulators.config import SimConfig
from simulators.mp_messages import MessageSimulator
from simulators.payments import PaymentSimulator
from simulators.store import create_sim_tables
from simulators.wechatpay_gateway.app import create_gateway_app
from simulators.wechatpay_gateway.config import GatewayConfig, GatewayKeys
from simulators.wechatpay_gateway.mp import mp_router

if TYPE_CHECKING:
    from settings import Settings


def gateway_config(settings: Settings, **overrides: float) -> GatewayConfig:
    """Identity and keys from settings; the key pairs are generated on first start."""
    if len(settings.wechatpay_apiv3_key.encode()) != 32:
        # AEAD_AES_256_GCM takes the key's 32 bytes as they are.
        raise ValueError("SHEBAO_WECHATPAY_APIV3_KEY must be 32 bytes")
    return GatewayConfig(
        mchid=settings.wechatpay_mchid,
        appid=settings.wechatpay_appid,
        apiv3_key=settings.wechatpay_apiv3_key,
        keys=GatewayKeys.load(settings.wechatpay_dir),
        app_secret=settings.wechat_app_secret,
        notify_speedup=settings.wechatpay_notify_speedup,
        **overrides,
    )


async def gateway_app(
    settings: Settings, engine: AsyncEngine, *, clock: Clock = system_clock, **overrides: float
) -> FastAPI:
    """The gateway app over the simulator database behind engine (the caller disposes it)."""
    await create_sim_tables(engine)
    sim = PaymentSimulator(
        engine, clock, SimConfig.from_settings(settings), base_url=settings.base_url
    )
    app = create_gateway_app(gateway_config(settings, **overrides), sim, clock=clock)
    # The 公众号's message API beside WeChat Pay's, as payers' WeChat sees both.
    messages = MessageSimulator(engine, clock)
    app.include_router(mp_router(settings.wechatpay_appid, settings.wechat_app_secret, messages))
    return app


@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve app on the running loop until the block ends; yields its base URL.

    port=0 picks a free port, so tests can run side by side.
    """
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raises why it could not start
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.02)
        bound = server.servers[0].sockets[0].getsockname()
        yield f"http://{bound[0]}:{bound[1]}"
    finally:
        server.should_exit = True
        await task
