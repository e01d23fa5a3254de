"""The payment provider contract: request/response models, the channel and callback protocols.

States are ours (domain.payments); each provider maps its own inside its package and passes
its raw state along (provider_state) for display and audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel


class _Model(BaseModel):
    # Values, not entities: immutable so a workflow cannot mutate what an activity returned.
    model_config = ConfigDict(frozen=True)


class CreateOrder(_Model):
    """A payment order; the workflow fixes every field before the first call, for idempotency."""

    out_trade_no: str
    description: str
    amount_fen: int = Field(gt=0)
    time_expire: AwareDatetime
    channel: Channel
    notify_url: str
    # The provider's product (for WeChat Pay: h5 or jsapi), as the contribution recorded it.
    product: str = "h5"
    payer_openid: str | None = None
    # H5 orders: the payer's address as the trusted proxy saw it (WeChat checks it).
    payer_client_ip: str | None = None


class OrderCreated(_Model):
    out_trade_no: str
    prepay_id: str
    cashier_url: str | None
    h5_url: str | None
    expires_at: AwareDatetime
    # JSAPI orders: the parameters the WeChat page passes to WeixinJSBridge (paySign included).
    jsapi: dict[str, str] | None = None


class OrderStatus(_Model):
    out_trade_no: str
    state: PaymentState
    # The provider's own word for the state (WeChat: NOTPAY, SUCCESS, ...), shown to payers.
    provider_state: str
    transaction_id: str | None
    amount_fen: int
    payer_total_fen: int | None
    success_time: AwareDatetime | None
    bank_type: str | None


class RefundRequest(_Model):
    """One refund; `out_refund_no` is fixed up front and reused on every retry."""

    out_refund_no: str
    out_trade_no: str
    amount_fen: int = Field(gt=0)
    total_fen: int = Field(gt=0)
    reason: str
    notify_url: str | None = None


class RefundStatus(_Model):
    out_refund_no: str
    refund_id: str | None
    status: RefundState
    amount_fen: int
    success_time: AwareDatetime | None
    user_received_account: str | None


class PaymentNotification(_Model):
    """A verified callback: about a payment (`state` set) or a refund (`refund_status` set).

    `event_type` is the provider's own (WeChat: TRANSACTION.SUCCESS, REFUND.SUCCESS, ...).
    """

    event_id: str
    event_type: str
    out_trade_no: str
    out_refund_no: str | None
    transaction_id: str | None
    state: PaymentState | None
    provider_state: str | None
    refund_status: RefundState | None
    amount_fen: int
    success_time: AwareDatetime | None
    bank_type: str | None
    create_time: AwareDatetime


class BillRow(_Model):
    """One line of the daily trade bill in the provider's words: a payment or a refund line.

    The provider's registration maps its states to ours (adapters.payments.registry.Provider).
    """

    trade_time: AwareDatetime
    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount_fen: int
    refund_fen: int = 0
    out_refund_no: str | None = None
    refund_status: str | None = None


class CallbackRejected(Exception):
    """Not a genuine, fresh, decryptable callback for this merchant; `status` is the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedCallback:
    notification: PaymentNotification
    # The order's total as the provider states it, to compare with ours before acting.
    order_total_fen: int


class CallbackVerifier(Protocol):
    """Turns a provider's callback request into a verified notification."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedCallback:
        """The notification, or CallbackRejected with the HTTP status to answer."""
        ...


class PaymentChannel(Protocol):
    """What activities need from a payment channel. Errors are `adapters.errors` classes."""

    async def create_order(self, req: CreateOrder) -> OrderCreated:
        """Create (or, with identical parameters before expiry, return) the order.

        Changed parameters for a used out_trade_no → ConflictError("OUT_TRADE_NO_USED").
        """
        ...

    async def query_order(self, out_trade_no: str) -> OrderStatus:
        """The order's current state; NotFoundError if the channel does not know it."""
        ...

    async def close_order(self, out_trade_no: str) -> None:
        """Close an unpaid order; ConflictError("ORDERPAID") if paid; closed again is a no-op."""
        ...

    async def refund(self, req: RefundRequest) -> RefundStatus:
        """Request a refund (idempotent per out_refund_no); unpaid or over-refund → invalid."""
        ...

    async def query_refund(self, out_refund_no: str) -> RefundStatus:
        """The refund's current state; NotFoundError if unknown."""
        ...

    async def trade_bill(self, bill_date: date) -> list[BillRow]:
        """The channel's trade bill of one Asia/Shanghai calendar day (payments and refunds)."""
        ...
