"""The WeixinJSBridge of WeChat's browser, for pages under test: getBrandWCPayRequest checks
paySign with the merchant's public key, then shows a cashier where the payer picks 零钱 or a
bank card, and pays through the simulated cashier's backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from adapters.errors import ConflictError, NotFoundError, TransientError
from adapters.payments.wechatpay.crypto import verify_jsapi_pay_params
from adapters.payments.wechatpay.states import BANK_TYPE_BALANCE, TradeState
from domain.money import fen_to_yuan_str
from simulators.cashier.backend import SimCashier
from simulators.cashier.routes import CashierRefused, cashier_route_class, order_not_found

SCRIPT_PATH = "/sim/wechat/jsbridge.js"
_SCRIPT = Path(__file__).resolve().parent / "static" / "jsbridge.js"
_PREPAY_PREFIX = "prepay_id="
_MAX_PREPAY_ID = 64
# What the payer picks in WeChat's cashier, as the notification's bank_type tells it.
BANK_TYPES = {"balance": BANK_TYPE_BALANCE, "bank_card": "ICBC_DEBIT"}


class PayParams(BaseModel):
    """getBrandWCPayRequest's parameters, as the merchant's page passed them."""

    appId: str = Field(max_length=64)
    timeStamp: str = Field(max_length=16)
    nonceStr: str = Field(max_length=64)
    package: str = Field(max_length=128)
    signType: str = Field(max_length=16)
    paySign: str = Field(max_length=1024)


class OrderIn(BaseModel):
    params: PayParams


class PayIn(OrderIn):
    method: str = Field(pattern="^(balance|bank_card)$")


class OrderOut(BaseModel):
    out_trade_no: str
    description: str
    amount: str
    payable: bool


class PaidOut(BaseModel):
    trade_state: str
    bank_type: str | None


def jsbridge_router(
    find_cashier: Callable[[Request], SimCashier | None],
    merchant_public_key: Callable[[], RSAPublicKey],
    appid: str,
) -> APIRouter:
    """The shim's script and its two calls, on the API's own URL (as the cashier page is)."""
    router = APIRouter(prefix="/sim/wechat", tags=["simulator"], route_class=cashier_route_class())

    async def checked(request: Request, params: PayParams) -> tuple[SimCashier, str]:
        sim = find_cashier(request)
        if sim is None:
            raise CashierRefused(404, "NOT_FOUND", "请求的资源不存在")
        values = params.model_dump()
        # WeChat refuses a request its merchant did not sign, before showing any cashier.
        if params.appId != appid or not verify_jsapi_pay_params(merchant_public_key(), values):
            raise CashierRefused(400, "SIGN_ERROR", "支付验证签名失败")
        prepay_id = params.package.removeprefix(_PREPAY_PREFIX)
        if not params.package.startswith(_PREPAY_PREFIX) or len(prepay_id) > _MAX_PREPAY_ID:
            raise CashierRefused(400, "PARAM_ERROR", "package 参数错误")
        try:
            return sim, await sim.out_trade_no_of(prepay_id)
        except NotFoundError:
            raise order_not_found() from None
        except TransientError:
            raise CashierRefused(503, "CASHIER_UNAVAILABLE", "收银台暂不可用，请稍后再试") from None

    @router.get("/jsbridge.js", response_model=None)
    async def script() -> Response:
        return FileResponse(_SCRIPT, media_type="text/javascript; charset=utf-8")

    @router.post("/jsapi/order", response_model=OrderOut)
    async def order(request: Request, body: OrderIn) -> OrderOut:
        """What the cashier shows: the order the signed package names."""
        sim, out_trade_no = await checked(request, body.params)
        found = await sim.order(out_trade_no)
        return OrderOut(
            out_trade_no=found.out_trade_no,
            description=found.description,
            amount=fen_to_yuan_str(found.amount_fen),
            payable=found.trade_state in (TradeState.NOTPAY, TradeState.USERPAYING)
            and not found.expired,
        )

    @router.post("/jsapi/pay", response_model=PaidOut)
    async def pay(request: Request, body: PayIn) -> PaidOut:
        """The payer confirms with 零钱 or a bank card; the notification tells which."""
        sim, out_trade_no = await checked(request, body.params)
        try:
            status = await sim.pay(out_trade_no, "success", BANK_TYPES[body.method])
        except NotFoundError:
            raise order_not_found() from None
        except ConflictError:
            raise CashierRefused(409, "ORDER_NOT_PAYABLE", "订单状态不允许支付") from None
        except TransientError:
            raise CashierRefused(503, "CASHIER_UNAVAILABLE", "收银台暂不可用，请稍后再试") from None
        return PaidOut(trade_state=status.provider_state, bank_type=status.bank_type)

    return router
