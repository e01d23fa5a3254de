"""WeChat Pay as a registered provider: its name, products, notify route and state mapping."""

from __future__ import annotations

from adapters.payments.interface import CallbackVerifier, PaymentChannel
from adapters.payments.registry import Provider
from adapters.payments.wechatpay.states import TradeState, paid_with, payment_state, refund_state

NAME = "wechatpay"
# 公众号 H5 (the payer pays on WeChat's H5 cashier) and JSAPI (inside WeChat, with an openid).
PRODUCTS = frozenset({"h5", "jsapi"})
NOTIFY_PATH = f"/api/v1/payments/{NAME}/notify"


def notify_url(base: str) -> str:
    """Where WeChat Pay sends its callbacks, under the public base URL."""
    return f"{base.rstrip('/')}{NOTIFY_PATH}"


def provider(channel: PaymentChannel, callbacks: CallbackVerifier | None = None) -> Provider:
    """WeChat Pay over `channel` (the real client or the simulator standing in for it).

    `callbacks` verifies WeChat's callbacks; None when the in-process simulator hands them over
    directly.
    """
    return Provider(
        name=NAME,
        products=PRODUCTS,
        channel=channel,
        callbacks=callbacks,
        notify_path=NOTIFY_PATH,
        pending_state=TradeState.NOTPAY.value,
        paid_state=TradeState.SUCCESS.value,
        payment_state=payment_state,
        refund_state=refund_state,
        paid_with=paid_with,
    )
