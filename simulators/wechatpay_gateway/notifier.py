"""Delivers the simulator's callbacks signed and encrypted like WeChat, on its retry schedule."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from datetime import timedelta

import httpx

from adapters.clock import Clock
from adapters.errors import NotFoundError
from adapters.payments.wechatpay.crypto import aead_encrypt, signed_headers
from simulators.payments import PaymentSimulator, SimNotification, notify_retry_delay_s
from simulators.wechatpay_gateway.config import GatewayConfig, Stats, Switches
from simulators.wechatpay_gateway.resources import SUMMARIES, callback_resource, iso

log = logging.getLogger("shebao.gateway.notifier")

# WeChat waits about 5 s for an answer before counting the attempt as failed.
DELIVERY_TIMEOUT_S = 5.0


class Deliverer:
    """Sends due callbacks; the simulator's table keeps attempts, so restarts lose nothing."""

    def __init__(
        self,
        sim: PaymentSimulator,
        config: GatewayConfig,
        switches: Switches,
        stats: Stats,
        clock: Clock,
        http: httpx.AsyncClient,
    ) -> None:
        self._sim = sim
        self._config = config
        self._switches = switches
        self._stats = stats
        self._clock = clock
        self._http = http
        self._held_since: float | None = None

    async def envelope(self, d: SimNotification) -> str:
        """The callback body: the resource encrypted with the APIv3 key."""
        n = d.notification
        order = await self._sim.order(n.out_trade_no)
        original_type, resource = callback_resource(
            n, order, self._config.appid, self._config.mchid
        )
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        ciphertext, nonce = aead_encrypt(self._config.apiv3_key, plaintext, original_type)
        body = {
            "id": n.event_id,
            "create_time": iso(n.create_time),
            "resource_type": "encrypt-resource",
            "event_type": n.event_type,
            "summary": SUMMARIES.get(n.event_type, n.event_type),
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": original_type,
                "nonce": nonce,
            },
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    async def _post(self, url: str, body: str, *, forge: bool = False) -> bool:
        keys = self._config.keys
        headers = signed_headers(
            keys.platform_private, keys.platform_key_id, body, int(time.time())
        )
        if forge:
            # WeChat's probes: a well-formed but wrong signature the receiver must refuse.
            headers["Wechatpay-Signature"] = base64.b64encode(secrets.token_bytes(256)).decode()
        headers["Content-Type"] = "application/json"
        try:
            response = await self._http.post(
                url, content=body.encode(), headers=headers, timeout=DELIVERY_TIMEOUT_S
            )
        except httpx.HTTPError as err:
            log.info("callback to %s failed: %s", url, type(err).__name__)
            return False
        return 200 <= response.status_code < 300

    async def deliver_once(self) -> int:
        """Send what is due now; returns how many were acknowledged."""
        due = await self._sim.pending_deliveries()
        if self._switches.out_of_order and due:
            now = time.monotonic()
            if self._held_since is None:
                self._held_since = now
            if now - self._held_since < self._config.out_of_order_window_s:
                return 0
            self._held_since = None
            due = list(reversed(due))
        acknowledged = 0
        for d in due:
            if await self._deliver(d):
                acknowledged += 1
        return acknowledged

    async def _deliver(self, d: SimNotification) -> bool:
        event_id = d.notification.event_id
        if self._switches.lose:
            self._stats.lost += 1
            await self._sim.mark_failed_attempt(event_id, None)
            return False
        if not d.notify_url:
            await self._sim.mark_failed_attempt(event_id, None)
            return False
        try:
            body = await self.envelope(d)
        except NotFoundError:
            await self._sim.mark_failed_attempt(event_id, None)
            return False
        if self._switches.bad_signature_probe:
            if await self._post(d.notify_url, body, forge=True):
                self._stats.probes_accepted += 1
                log.error("the receiver accepted a callback with a bad signature")
            else:
                self._stats.probes_rejected += 1
        if await self._post(d.notify_url, body):
            await self._sim.mark_delivered(event_id)
            self._stats.delivered += 1
            if self._switches.duplicate:
                self._stats.duplicates_sent += 1
                await self._post(d.notify_url, await self.envelope(d))
            return True
        self._stats.failed_attempts += 1
        delay = notify_retry_delay_s(d.attempts + 1, self._config.notify_speedup)
        next_at = None if delay is None else self._clock() + timedelta(seconds=delay)
        await self._sim.mark_failed_attempt(event_id, next_at)
        return False

    async def run(self) -> None:
        """Forever: deliver, sleep."""
        while True:
            try:
                await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("callback delivery round failed")
            await asyncio.sleep(self._config.deliver_interval_s)
