"""Simulator mode: the WeChat-like cashier page and its pay button (served on the API's own URL)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel

from adapters.errors import ConflictError, NotFoundError, TransientError
from adapters.payments.wechatpay.states import BANK_TYPE_BALANCE, TradeState
from domain.money import fen_to_yuan_str
from simulators.cashier.backend import SimCashier
from simulators.payments import SimOrder

_templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,
        # Jinja drops a template's last newline unless told to keep it.
        keep_trailing_newline=True,
    )
)

_MAX_OUT_TRADE_NO = 32
_BANK_TYPES = {"wechat_balance": BANK_TYPE_BALANCE, "bank_card": "ICBC_DEBIT"}
_CONFLICTS: dict[str, tuple[str, str]] = {
    "ORDER_EXPIRED": ("ORDER_EXPIRED", "订单已过期"),
    "ORDERPAID": ("ORDER_PAID", "订单已支付"),
    "ORDER_CLOSED": ("ORDER_CLOSED", "订单已关闭"),
    "TRADE_ERROR": ("ORDER_FAILED", "订单支付失败，请重新下单"),
}


class PayIn(BaseModel):
    outcome: Literal["success", "fail"] = "success"
    method: Literal["wechat_balance", "bank_card"] | None = None


class PayOut(BaseModel):
    out_trade_no: str
    trade_state: str


class CashierRefused(Exception):
    """An answer the cashier gives on purpose, in the API's error envelope."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message, "field": None}
        return JSONResponse(body, status_code=self.status_code)


class _CashierRoute(APIRoute):
    """Answers CashierRefused itself, so the router needs no handler installed on the app."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except CashierRefused as refused:
                return refused.response()

        return handle


def cashier_route_class() -> type[APIRoute]:
    """The route class that answers CashierRefused in the envelope (for the shim's routes too)."""
    return _CashierRoute


def order_not_found() -> CashierRefused:
    return CashierRefused(404, "ORDER_NOT_FOUND", "订单不存在")


def _unavailable() -> CashierRefused:
    return CashierRefused(503, "CASHIER_UNAVAILABLE", "收银台暂不可用，请稍后再试")


async def _order(sim: SimCashier, out_trade_no: str) -> SimOrder:
    if len(out_trade_no) > _MAX_OUT_TRADE_NO:
        raise order_not_found()
    try:
        return await sim.order(out_trade_no)
    except NotFoundError:
        raise order_not_found() from None
    except TransientError:
        raise _unavailable() from None


_RETURN_PREFIX = "/h5/"
_MAX_RETURN = 200


def _return_to(value: str | None) -> str | None:
    """Only our own H5 pages (a path, never another host) may be returned to."""
    if value is None or len(value) > _MAX_RETURN or not value.startswith(_RETURN_PREFIX):
        return None
    if "//" in value or "\\" in value or not value.isascii() or not value.isprintable():
        return None
    return value


_STATE_LABELS = {
    TradeState.NOTPAY: "待支付",
    TradeState.USERPAYING: "支付中",
    TradeState.SUCCESS: "已支付",
    TradeState.REFUND: "已转入退款",
    TradeState.CLOSED: "已关闭",
    TradeState.REVOKED: "已撤销",
    TradeState.PAYERROR: "支付失败",
}


def cashier_router(find_cashier: Callable[[Request], SimCashier | None]) -> APIRouter:
    """The cashier page and its pay action under /sim/cashier.

    find_cashier gives the backend of the app the request came to: the in-process simulator,
    or the local WeChat Pay gateway's admin API when the channel is the real adapter (the page
    behaves the same either way); None answers 404.
    """
    router = APIRouter(prefix="/sim/cashier", tags=["simulator"], route_class=_CashierRoute)

    async def cashier(request: Request) -> SimCashier:
        found = find_cashier(request)
        if found is None:
            raise CashierRefused(404, "NOT_FOUND", "请求的资源不存在")
        return found

    # A name, not a call, in the defaults below (ruff B008); FastAPI resolves it per request.
    the_cashier: SimCashier = Depends(cashier)

    @router.get("/{out_trade_no}", response_class=HTMLResponse)
    async def cashier_page(
        out_trade_no: str,
        request: Request,
        sim: SimCashier = the_cashier,
        return_path: str | None = Query(None, alias="return"),
    ) -> Response:
        """The simulated cashier: amount in yuan and the three outcomes; `return` leads to H5."""
        order = await _order(sim, out_trade_no)
        payable = (
            order.trade_state in (TradeState.NOTPAY, TradeState.USERPAYING) and not order.expired
        )
        expired_unpaid = order.expired and order.trade_state == TradeState.NOTPAY
        context = {
            "description": order.description,
            "amount": fen_to_yuan_str(order.amount_fen),
            "out_trade_no": order.out_trade_no,
            "state_label": "订单已过期" if expired_unpaid else _STATE_LABELS[order.trade_state],
            "payable": payable,
            # The simulator only stores [0-9A-Za-z_-|*] order numbers; tojson escapes the rest.
            "pay_url": f"/sim/cashier/{order.out_trade_no}/pay",
            "back": _return_to(return_path),
        }
        return _templates.TemplateResponse(
            request, "cashier.html", context, headers={"Cache-Control": "no-store"}
        )

    @router.post("/{out_trade_no}/pay", response_model=PayOut)
    async def pay(out_trade_no: str, body: PayIn, sim: SimCashier = the_cashier) -> PayOut:
        """The payer pays (or fails): 409 ORDER_EXPIRED / ORDER_PAID / ORDER_CLOSED; 404 unknown."""
        await _order(sim, out_trade_no)
        bank_type = _BANK_TYPES[body.method] if body.method and body.outcome == "success" else None
        try:
            status = await sim.pay(out_trade_no, body.outcome, bank_type)
        except NotFoundError:
            raise order_not_found() from None
        except TransientError:
            raise _unavailable() from None
        except ConflictError as err:
            code, message = _CONFLICTS.get(err.code, ("ORDER_CONFLICT", "订单状态不允许支付"))
            raise CashierRefused(409, code, message) from None
        return PayOut(out_trade_no=status.out_trade_no, trade_state=status.provider_state)

    return router
