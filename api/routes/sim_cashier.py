"""Simulator mode: the WeChat-like cashier page and its pay button (served on the API's own URL)."""

from __future__ import annotations

import html
import json
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from adapters.errors import ConflictError, NotFoundError, TransientError
from adapters.payments.cashier import SimCashier
from adapters.payments.interface import BANK_TYPE_BALANCE
from adapters.payments.simulator import SimOrder
from api.state import State
from domain.money import fen_to_yuan_str
from domain.vocabulary import TradeState
from services.context import AppState
from services.errors import ServiceError

router = APIRouter(prefix="/sim/cashier", tags=["simulator"])

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


def order_not_found() -> ServiceError:
    return ServiceError(404, "ORDER_NOT_FOUND", "订单不存在", None)


def _simulator(state: AppState) -> SimCashier:
    # The in-process simulator, or the local WeChat Pay gateway's admin API when the channel
    # is the real adapter: the page behaves the same either way.
    adapters = state.adapters
    sim = (adapters.cashier or adapters.payment_sim) if adapters is not None else None
    if sim is None:
        raise ServiceError(404, "NOT_FOUND", "请求的资源不存在", None)
    return sim


def _unavailable() -> ServiceError:
    return ServiceError(503, "CASHIER_UNAVAILABLE", "收银台暂不可用，请稍后再试", None)


async def _order(sim: SimCashier, out_trade_no: str) -> SimOrder:
    if len(out_trade_no) > _MAX_OUT_TRADE_NO:
        raise order_not_found()
    try:
        return await sim.order(out_trade_no)
    except NotFoundError:
        raise order_not_found() from None
    except TransientError:
        raise _unavailable() from None


_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>微信支付</title>
<style>
body {{ margin: 0; font-family: -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif;
  background: #ededed; color: #111; }}
header {{ background: #07c160; color: #fff; padding: 14px; text-align: center; font-size: 17px; }}
main {{ padding: 24px 16px; text-align: center; }}
.desc {{ color: #555; font-size: 15px; }}
.amount {{ font-size: 40px; font-weight: 600; margin: 12px 0 24px; }}
.amount small {{ font-size: 22px; }}
button {{ display: block; width: 100%; margin: 10px 0; padding: 13px; border: 0;
  border-radius: 6px; font-size: 17px; }}
.primary {{ background: #07c160; color: #fff; }}
.secondary {{ background: #fff; color: #07c160; }}
.danger {{ background: #fff; color: #fa5151; }}
#result {{ margin-top: 18px; font-size: 16px; min-height: 1.5em; }}
.state {{ color: #888; font-size: 14px; }}
#back {{ display: block; margin-top: 16px; color: #576b95; font-size: 15px; }}
</style>
</head>
<body>
<header>微信支付</header>
<main>
<div class="desc">{description}</div>
<div class="amount"><small>¥</small>{amount}</div>
<div class="state">订单号 {out_trade_no} · {state_label}</div>
{buttons}
<div id="result" role="status"></div>
{back_link}
</main>
<script>
async function pay(outcome, method) {{
  const result = document.getElementById("result");
  result.textContent = "处理中…";
  const response = await fetch({pay_url}, {{
    method: "POST",
    headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{outcome: outcome, method: method}})
  }});
  const body = await response.json();
  if (response.ok) {{
    result.textContent = body.trade_state === "SUCCESS" ? "支付成功" : "支付失败";
  }} else {{
    result.textContent = body.message || "支付失败";
  }}
  document.querySelectorAll("button").forEach(function (b) {{ b.disabled = true; }});
  // Like WeChat: after paying, back to the merchant's result page.
  const back = {return_to};
  if (back) {{ setTimeout(function () {{ location.href = back; }}, 600); }}
}}
</script>
</body>
</html>
"""

_BUTTONS = """<button class="primary" onclick="pay('success', 'wechat_balance')">零钱支付</button>
<button class="secondary" onclick="pay('success', 'bank_card')">银行卡支付</button>
<button class="danger" onclick="pay('fail', null)">支付失败</button>"""

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


@router.get("/{out_trade_no}", response_class=HTMLResponse)
async def cashier_page(
    out_trade_no: str, state: State, return_path: str | None = Query(None, alias="return")
) -> HTMLResponse:
    """The simulated cashier: amount in yuan and the three outcomes; `return` leads back to H5."""
    order = await _order(_simulator(state), out_trade_no)
    payable = order.trade_state in (TradeState.NOTPAY, TradeState.USERPAYING) and not order.expired
    expired_unpaid = order.expired and order.trade_state == TradeState.NOTPAY
    label = "订单已过期" if expired_unpaid else _STATE_LABELS[order.trade_state]
    back = _return_to(return_path)
    page = _PAGE.format(
        description=html.escape(order.description),
        amount=fen_to_yuan_str(order.amount_fen),
        out_trade_no=html.escape(order.out_trade_no),
        state_label=html.escape(label),
        buttons=_BUTTONS if payable else "",
        # The simulator only stores [0-9A-Za-z_-|*] order numbers: safe inside a JS string.
        pay_url=json.dumps(f"/sim/cashier/{order.out_trade_no}/pay"),
        # json.dumps escapes quotes; "<" is escaped too so the path cannot close the script.
        return_to=json.dumps(back).replace("<", "\\u003c"),
        back_link=f'<a id="back" href="{html.escape(back)}">返回商户</a>' if back else "",
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/{out_trade_no}/pay", response_model=PayOut)
async def pay(out_trade_no: str, body: PayIn, state: State) -> PayOut:
    """The payer pays (or fails): 409 ORDER_EXPIRED / ORDER_PAID / ORDER_CLOSED; 404 unknown."""
    sim = _simulator(state)
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
        raise ServiceError(409, code, message, None) from None
    return PayOut(out_trade_no=status.out_trade_no, trade_state=status.trade_state.value)
