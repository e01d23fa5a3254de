"""Latency of POST /api/v1/payments/wechatpay/notify under concurrent signed callbacks.

Against a running `make dev` whose APIv3 key you exported (the gateway's platform key in
.data/wechatpay/ signs the callbacks). Each callback is genuine but names no order of ours, so
it takes the full path (verify, decrypt, record, mark processed) without moving money; a share
are re-deliveries of the same event id. Prints percentiles; asserts nothing (WeChat's limit: 5 s).

    SHEBAO_WECHATPAY_APIV3_KEY=... make dev            # in one terminal
    SHEBAO_WECHATPAY_APIV3_KEY=... .venv/bin/python bench/notify_latency.py --n 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.payments.wechatpay.crypto import (
    PLATFORM_PRIVATE_FILE,
    PLATFORM_PUBLIC_FILE,
    PUBLIC_KEY_ID_PREFIX,
    aead_encrypt,
    key_id,
    load_private_key,
    signed_headers,
)
from settings import Settings


def _body(settings: Settings, event_id: str) -> str:
    resource = {
        "mchid": settings.wechatpay_mchid,
        "appid": settings.wechatpay_appid,
        "out_trade_no": f"BENCH{uuid.uuid4().hex[:20]}",
        "transaction_id": "4200000000000000000000000000",
        "trade_type": "MWEB",
        "trade_state": "SUCCESS",
        "bank_type": "OTHERS",
        "success_time": datetime.now(UTC).isoformat(timespec="seconds"),
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY"},
    }
    ciphertext, nonce = aead_encrypt(
        settings.wechatpay_apiv3_key, json.dumps(resource), "transaction"
    )
    return json.dumps(
        {
            "id": event_id,
            "create_time": datetime.now(UTC).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": "transaction",
                "nonce": nonce,
            },
        }
    )


async def main(n: int, concurrency: int, duplicate_share: float) -> None:
    settings = Settings()
    directory = settings.wechatpay_dir
    signer = load_private_key((directory / PLATFORM_PRIVATE_FILE).read_bytes())
    serial = key_id((directory / PLATFORM_PUBLIC_FILE).read_bytes(), PUBLIC_KEY_ID_PREFIX)
    url = f"{settings.base_url}/api/v1/payments/wechatpay/notify"
    event_ids = [f"EV-{uuid.uuid4().hex[:20]}" for _ in range(n)]
    repeats = int(n * duplicate_share)
    event_ids[:repeats] = event_ids[repeats : 2 * repeats]  # some ids arrive twice
    bodies = [_body(settings, e) for e in event_ids]
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def one(http: httpx.AsyncClient, body: str) -> None:
        async with gate:
            headers = signed_headers(signer, serial, body, int(time.time()))
            headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            r = await http.post(url, content=body.encode(), headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    async with httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(max_connections=concurrency)
    ) as http:
        began = time.perf_counter()
        await asyncio.gather(*(one(http, b) for b in bodies))
        wall = time.perf_counter() - began
    q = statistics.quantiles(latencies, n=100)
    print(f"{n} callbacks, {concurrency} in flight, {repeats} re-deliveries: {n / wall:.0f}/s")
    print(
        f"latency p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
        f"p99 {q[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; statuses {statuses}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--duplicates", type=float, default=0.1)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.concurrency, args.duplicates))
