"""A client of the gateway's /sim admin endpoints: the cashier's pay button, forces, switches."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from adapters.errors import (
    AdapterError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    TransientError,
)
from adapters.payments.interface import OrderStatus
from simulators.payments import ForceKind, SimOrder
from simulators.wechatpay_gateway.config import Stats, Switches


class GatewayAdmin:
    """Talks to a running gateway; the API's cashier page uses it when the channel is real."""

    def __init__(self, base_url: str, timeout_s: float = 5.0) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout_s

    async def _request(self, method: str, path: str, json: Any = None) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.request(method, self._base + path, json=json)
        except httpx.HTTPError as err:
            raise TransientError("GATEWAY_UNREACHABLE", type(err).__name__) from None
        if response.status_code < 400:
            return response
        try:
            body = response.json()
            code, message = str(body.get("code", "")), str(body.get("message", ""))
        except ValueError:
            code, message = "", ""
        error: type[AdapterError] = TransientError
        if response.status_code == 404:
            error = NotFoundError
        elif response.status_code == 409:
            error = ConflictError
        elif response.status_code in (400, 422):
            error = InvalidRequestError
        raise error(code or f"HTTP_{response.status_code}", message)

    async def order(self, out_trade_no: str) -> SimOrder:
        response = await self._request("GET", f"/sim/orders/{out_trade_no}")
        return SimOrder.model_validate_json(response.content)

    async def out_trade_no_of(self, prepay_id: str) -> str:
        response = await self._request("GET", f"/sim/prepay/{prepay_id}")
        return str(response.json()["out_trade_no"])

    async def pay(
        self,
        out_trade_no: str,
        outcome: Literal["success", "fail"] = "success",
        bank_type: str | None = None,
    ) -> OrderStatus:
        body = {"outcome": outcome, "bank_type": bank_type}
        response = await self._request("POST", f"/sim/orders/{out_trade_no}/pay", body)
        return OrderStatus.model_validate_json(response.content)

    async def force(
        self, kind: ForceKind, amount_fen: int, outcome: str, times: int | None = None
    ) -> None:
        body = {"kind": kind, "amount_fen": amount_fen, "outcome": outcome, "times": times}
        await self._request("POST", "/sim/forces", body)

    async def set_switches(self, switches: Switches) -> Switches:
        response = await self._request("PUT", "/sim/switches", switches.model_dump())
        return Switches.model_validate_json(response.content)

    async def stats(self) -> Stats:
        return Stats.model_validate_json((await self._request("GET", "/sim/stats")).content)

    async def deliver(self) -> int:
        response = await self._request("POST", "/sim/deliver")
        return int(response.json()["acknowledged"])
