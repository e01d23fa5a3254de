"""The v3 JSON shapes of simulator orders, refunds and callback resources."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from adapters.payments.interface import PaymentNotification, RefundStatus
from adapters.payments.wechatpay.states import (
    EVENT_REFUND_ABNORMAL,
    EVENT_REFUND_CLOSED,
    EVENT_REFUND_SUCCESS,
    EVENT_TRANSACTION_SUCCESS,
)
from simulators.payments import SimOrder

CST = timezone(timedelta(hours=8))

SUMMARIES = {
    EVENT_TRANSACTION_SUCCESS: "支付成功",
    EVENT_REFUND_SUCCESS: "退款成功",
    EVENT_REFUND_ABNORMAL: "退款异常",
    EVENT_REFUND_CLOSED: "退款关闭",
}


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(CST).isoformat(timespec="seconds") if moment else None


def trade_type(order: SimOrder) -> str:
    return "JSAPI" if order.payer_openid else "MWEB"


def transaction(order: SimOrder, appid: str, mchid: str) -> dict[str, Any]:
    """GET /v3/pay/transactions/out-trade-no/{no} and the TRANSACTION.SUCCESS resource."""
    body: dict[str, Any] = {
        "appid": appid,
        "mchid": mchid,
        "out_trade_no": order.out_trade_no,
        "trade_type": trade_type(order),
        "trade_state": order.trade_state.value,
        "trade_state_desc": order.trade_state.value,
        "attach": order.channel.value,
        "amount": {"total": order.amount_fen, "currency": "CNY", "payer_currency": "CNY"},
    }
    if order.transaction_id:
        body["transaction_id"] = order.transaction_id
        body["bank_type"] = order.bank_type
        body["success_time"] = iso(order.success_time)
        body["amount"]["payer_total"] = order.payer_total_fen
    if order.payer_openid:
        body["payer"] = {"openid": order.payer_openid}
    return body


def refund(
    status: RefundStatus, out_trade_no: str, transaction_id: str | None, total_fen: int
) -> dict[str, Any]:
    """POST /v3/refund/domestic/refunds and GET .../refunds/{no}."""
    return {
        "refund_id": status.refund_id,
        "out_refund_no": status.out_refund_no,
        "transaction_id": transaction_id,
        "out_trade_no": out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": status.user_received_account,
        "success_time": iso(status.success_time),
        "status": status.status.value,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": total_fen,
            "refund": status.amount_fen,
            "payer_total": total_fen,
            "payer_refund": status.amount_fen,
            "currency": "CNY",
        },
    }


def callback_resource(
    n: PaymentNotification, order: SimOrder, appid: str, mchid: str
) -> tuple[str, dict[str, Any]]:
    """(original_type, plaintext resource) of a notification."""
    if n.event_type == EVENT_TRANSACTION_SUCCESS:
        return "transaction", transaction(order, appid, mchid)
    found = [r for r in order.refunds if r.out_refund_no == n.out_refund_no]
    refund_id = found[0].refund_id if found else None
    account = found[0].user_received_account if found else None
    return "refund", {
        "mchid": mchid,
        "out_trade_no": n.out_trade_no,
        "transaction_id": n.transaction_id,
        "out_refund_no": n.out_refund_no,
        "refund_id": refund_id,
        "refund_status": n.refund_status.value if n.refund_status else None,
        "success_time": iso(n.success_time),
        "user_received_account": account,
        "amount": {
            "total": order.amount_fen,
            "refund": n.amount_fen,
            "payer_total": order.amount_fen,
            "payer_refund": n.amount_fen,
        },
    }
