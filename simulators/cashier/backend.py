"""What the simulated cashier page needs: read an order, pay it (in-process or via the gateway)."""

from __future__ import annotations

from typing import Literal, Protocol

from adapters.payments.interface import OrderStatus
from simulators.payments import SimOrder


class SimCashier(Protocol):
    async def order(self, out_trade_no: str) -> SimOrder: ...

    async def out_trade_no_of(self, prepay_id: str) -> str: ...

    async def pay(
        self,
        out_trade_no: str,
        outcome: Literal["success", "fail"] = "success",
        bank_type: str | None = None,
    ) -> OrderStatus: ...
