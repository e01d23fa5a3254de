"""A second payment provider touches only the registry: a made-up one carries a contribution
from start to COMPLETED, its callback arriving at POST /api/v1/payments/{provider}/notify."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest

from adapters.clock import Clock
from adapters.errors import ConflictError, NotFoundError
from adapters.payments.interface import (
    BillRow,
    CallbackRejected,
    CreateOrder,
    OrderCreated,
    OrderStatus,
    PaymentNotification,
    RefundRequest,
    RefundStatus,
    VerifiedCallback,
)
from adapters.payments.registry import Provider
from domain.payments import PaymentState, RefundState
from settings import Settings
from storage import payments
from tests.api.conftest import ApiStack
from tests.deployment import SystemsFactory
from wiring import Systems, build_simulators

NAME = "fakepay"
PRODUCT = "card"
TOKEN = "fakepay-shared-secret"
# FakePay's own words for its states, and ours for each.
STATES = {"OPEN": PaymentState.PENDING, "CAPTURED": PaymentState.PAID, "VOID": PaymentState.CLOSED}


@dataclass
class Order:
    request: CreateOrder
    state: str = "OPEN"
    paid_at: datetime | None = None


@dataclass
class FakePay:
    """An in-memory provider with a pay button; its callbacks carry a shared token."""

    orders: dict[str, Order] = field(default_factory=dict)
    callbacks_sent: int = 0

    async def create_order(self, req: CreateOrder) -> OrderCreated:
        self.orders.setdefault(req.out_trade_no, Order(req))
        return OrderCreated(
            out_trade_no=req.out_trade_no,
            prepay_id=f"fp-{req.out_trade_no}",
            cashier_url=f"https://fakepay.test/pay/{req.out_trade_no}",
            h5_url=None,
            expires_at=req.time_expire,
        )

    def _order(self, out_trade_no: str) -> Order:
        if out_trade_no not in self.orders:
            raise NotFoundError("ORDER_NOT_FOUND", "no such order")
        return self.orders[out_trade_no]

    async def query_order(self, out_trade_no: str) -> OrderStatus:
        o = self._order(out_trade_no)
        paid = o.state == "CAPTURED"
        return OrderStatus(
            out_trade_no=out_trade_no,
            state=STATES[o.state],
            provider_state=o.state,
            transaction_id=f"fp-tx-{out_trade_no}" if paid else None,
            amount_fen=o.request.amount_fen,
            payer_total_fen=o.request.amount_fen if paid else None,
            success_time=o.paid_at,
            bank_type=None,
        )

    async def close_order(self, out_trade_no: str) -> None:
        o = self._order(out_trade_no)
        if o.state == "CAPTURED":
            raise ConflictError("ORDERPAID", "already paid")
        o.state = "VOID"

    async def refund(self, req: RefundRequest) -> RefundStatus:
        return RefundStatus(
            out_refund_no=req.out_refund_no,
            refund_id=f"fp-rf-{req.out_refund_no}",
            status=RefundState.SUCCESS,
            amount_fen=req.amount_fen,
            success_time=None,
            user_received_account=None,
        )

    async def query_refund(self, out_refund_no: str) -> RefundStatus:
        raise NotFoundError("REFUND_NOT_FOUND", "no refunds here")

    async def trade_bill(self, bill_date: date) -> list[BillRow]:
        return []

    def pay(self, out_trade_no: str) -> bytes:
        """The payer pays; the answer is the callback FakePay then posts to its notify URL."""
        o = self._order(out_trade_no)
        o.state, o.paid_at = "CAPTURED", datetime.now(o.request.time_expire.tzinfo)
        self.callbacks_sent += 1
        return json.dumps(
            {
                "event": f"fp-ev-{self.callbacks_sent}",
                "order": out_trade_no,
                "status": o.state,
                "amount": o.request.amount_fen,
                "at": o.paid_at.isoformat(),
            }
        ).encode()


class FakeCallbacks:
    """Verifies FakePay's callbacks: the shared token in a header, or 401."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedCallback:
        if headers.get("x-fakepay-token") != TOKEN:
            raise CallbackRejected(401, "bad token")
        data: dict[str, Any] = json.loads(body)
        at = datetime.fromisoformat(data["at"])
        notification = PaymentNotification(
            event_id=data["event"],
            event_type="PAYMENT",
            out_trade_no=data["order"],
            out_refund_no=None,
            transaction_id=f"fp-tx-{data['order']}",
            state=STATES[data["status"]],
            provider_state=data["status"],
            refund_status=None,
            amount_fen=data["amount"],
            success_time=at,
            bank_type=None,
            create_time=at,
        )
        return VerifiedCallback(notification, data["amount"])


def _refund_state(raw: str) -> RefundState:
    return RefundState(raw)


FAKEPAY = FakePay()


def fakepay_provider() -> Provider:
    """Everything a new provider adds: its registration (here with its package inlined)."""
    return Provider(
        name=NAME,
        products=frozenset({PRODUCT}),
        channel=FAKEPAY,
        callbacks=FakeCallbacks(),
        notify_path=f"/api/v1/payments/{NAME}/notify",
        pending_state="OPEN",
        paid_state="CAPTURED",
        payment_state=lambda raw: STATES[raw],
        refund_state=_refund_state,
    )


async def _with_fakepay(settings: Settings, clock: Clock) -> Systems:
    systems = await build_simulators(settings, clock)
    systems.adapters.payments.register(fakepay_provider())
    return systems


@pytest.fixture(scope="module")
def api_settings() -> dict[str, Any]:
    # New contributions pay with FakePay; polling is rare so the callback is what moves them.
    return {"payment_provider": NAME, "payment_product": PRODUCT, "payment_poll_interval_s": 600}


@pytest.fixture(scope="module")
def api_systems() -> SystemsFactory:
    return _with_fakepay


async def test_a_registered_provider_carries_a_contribution_to_completed(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    out_trade_no = started["payment"]["out_trade_no"]
    assert started["payment"]["cashier_url"] == f"https://fakepay.test/pay/{out_trade_no}"
    waiting = await api.status(payer, started["contribution_id"])
    assert waiting["payment"]["trade_state"] == "OPEN"
    # The order reached FakePay with the notify URL of FakePay's own route.
    assert FAKEPAY.orders[out_trade_no].request.notify_url == (
        f"http://testserver/api/v1/payments/{NAME}/notify"
    )

    callback = FAKEPAY.pay(out_trade_no)
    forged = await api.http.post(f"/api/v1/payments/{NAME}/notify", content=callback)
    assert forged.status_code == 401
    r = await api.http.post(
        f"/api/v1/payments/{NAME}/notify", content=callback, headers={"x-fakepay-token": TOKEN}
    )
    assert r.status_code == 204, r.text

    view = await api.wait_for(payer, started["contribution_id"], lambda v: v["certificate_ready"])
    assert view["status"] == "COMPLETED"
    # Payers see the provider's own word for the state, as they see WeChat's.
    assert view["payment"]["trade_state"] == "CAPTURED"
    async with api.sessions() as db:
        row = await payments.get_payment(db, out_trade_no)
        event = await payments.get_event(db, json.loads(callback)["event"])
    assert row is not None
    assert (row.provider, row.product, row.state) == (NAME, PRODUCT, PaymentState.PAID)
    assert event is not None and event.processed_at is not None


async def test_a_provider_nobody_registered_takes_no_callbacks(api: ApiStack) -> None:
    r = await api.http.post("/api/v1/payments/nosuchpay/notify", content=b"{}")
    assert r.status_code == 404
    # The in-process WeChat Pay simulator hands its callbacks over directly: none over HTTP.
    r = await api.http.post("/api/v1/payments/wechatpay/notify", content=b"{}")
    assert r.status_code == 404
