"""`python -m scripts.wechatpay_gateway`: the local WeChat Pay v3 gateway on its own port."""

from __future__ import annotations

import asyncio
import logging

from settings import Settings
from simulators.wechatpay_gateway.server import gateway_app, serving
from wiring import make_sim_engine


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    engine = make_sim_engine(settings)
    try:
        app = await gateway_app(settings, engine)
        async with serving(
            app, settings.wechatpay_gateway_host, settings.wechatpay_gateway_port
        ) as url:
            logging.getLogger("shebao.gateway").info("WeChat Pay v3 gateway on %s", url)
            await asyncio.Event().wait()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
