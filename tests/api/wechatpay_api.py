"""The API and a worker on the real WeChat Pay adapter, against the local gateway, on real ports."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from adapters.clock import system_clock
from adapters.payments.wechatpay.crypto import (
    aead_encrypt,
    generate_private_key_pem,
    load_private_key,
    signed_headers,
)
from settings import Settings
from simulators.config import SimConfig
from simulators.wechatpay_gateway.resources import iso
from simulators.wechatpay_gateway.server import serving
from tests.adapters.wechatpay_stack import Gateway, gateway_settings, running_gateway
from tests.api.conftest import OPERATOR_TOKEN, ApiStack
from tests.deployment import app_and_worker
from tests.support import open_policy_all_year
from wiring import build_adapters

NOTIFY_PATH = "/api/v1/payments/wechatpay/notify"


@dataclass
class WxStack:
    api: ApiStack
    gateway: Gateway

    async def post_callback(
        self, body: str, *, age_s: int = 0, forge: bool = False
    ) -> httpx.Response:
        """POST a callback body signed with the platform key (or not, when forge)."""
        keys = self.gateway.config.keys
        signer = keys.platform_private
        if forge:
            signer = load_private_key(generate_private_key_pem())
        headers = signed_headers(signer, keys.platform_key_id, body, int(time.time()) - age_s)
        headers["Content-Type"] = "application/json"
        return await self.api.http.post(NOTIFY_PATH, content=body.encode(), headers=headers)


def callback_body(
    resource: dict[str, Any],
    *,
    apiv3_key: str,
    event_type: str = "TRANSACTION.SUCCESS",
    event_id: str | None = None,
) -> str:
    """A callback envelope with the resource AEAD_AES_256_GCM-encrypted, as WeChat sends it."""
    original_type = "transaction" if event_type.startswith("TRANSACTION") else "refund"
    ciphertext, nonce = aead_encrypt(apiv3_key, json.dumps(resource), original_type)
    return json.dumps(
        {
            "id": event_id or f"EV-{uuid.uuid4().hex[:20]}",
            "create_time": iso(datetime.now(UTC)),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功",
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": original_type,
                "nonce": nonce,
            },
        }
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def wechatpay_stack(
    env: WorkflowEnvironment, tmp: Path, **extra: object
) -> AsyncIterator[WxStack]:
    """Gateway, worker and API (served on a loopback port, so callbacks really arrive)."""
    port = _free_port()
    base = gateway_settings(
        tmp,
        task_queue=f"wx-{uuid.uuid4().hex[:8]}",
        operator_token=OPERATOR_TOKEN,
        payer_ref_key="test-payer-ref-key",
        public_base_url=f"http://127.0.0.1:{port}",
        api_port=port,
        payment_channel="wechatpay",
        wechatpay_notify_speedup=60,
        sim_posting_delay_s=1,
        sim_treasury_delay_s=1,
        posting_poll_interval_s=1,
        treasury_poll_interval_s=1,
        refund_poll_interval_s=1,
        **extra,
    )
    async with running_gateway(base, system_clock, SimConfig.from_settings(base)) as gw:
        settings = Settings.model_validate({**base.model_dump(), "wechatpay_gateway_url": gw.url})
        async with (
            app_and_worker(env.client, settings, build_adapters) as deployed,
            serving(deployed.app, port=port) as url,
            httpx.AsyncClient(base_url=url) as http,
        ):
            await open_policy_all_year(http, OPERATOR_TOKEN)
            api = ApiStack(
                http=http,
                env=env,
                settings=settings,
                systems=deployed.systems,
                sessions=deployed.sessions,
            )
            yield WxStack(api=api, gateway=gw)
