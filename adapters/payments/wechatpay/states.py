"""WeChat Pay v3's own words: event types, trade and refund states, and how the states map to
ours (domain.payments)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel

# Event types WeChat Pay v3 notifies (only successes are notified for payments).
EVENT_TRANSACTION_SUCCESS = "TRANSACTION.SUCCESS"
EVENT_REFUND_SUCCESS = "REFUND.SUCCESS"
EVENT_REFUND_ABNORMAL = "REFUND.ABNORMAL"
EVENT_REFUND_CLOSED = "REFUND.CLOSED"

# bank_type of a payment made from the WeChat balance (零钱).
BANK_TYPE_BALANCE = "OTHERS"


def paid_with(bank_type: str | None) -> Channel | None:
    """What actually paid, as WeChat's cashier reported it (the payer chooses there)."""
    if not bank_type:
        return None
    return Channel.WECHAT_BALANCE if bank_type == BANK_TYPE_BALANCE else Channel.BANK_CARD


class TradeState(StrEnum):
    """WeChat Pay v3 trade_state of a payment order."""

    NOTPAY = "NOTPAY"
    USERPAYING = "USERPAYING"
    SUCCESS = "SUCCESS"
    REFUND = "REFUND"
    CLOSED = "CLOSED"
    REVOKED = "REVOKED"
    PAYERROR = "PAYERROR"


class RefundStatus(StrEnum):
    """WeChat Pay v3 refund status."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    CLOSED = "CLOSED"
    ABNORMAL = "ABNORMAL"


PAYMENT_STATES: Final[dict[TradeState, PaymentState]] = {
    TradeState.NOTPAY: PaymentState.PENDING,
    TradeState.USERPAYING: PaymentState.PENDING,
    TradeState.SUCCESS: PaymentState.PAID,
    TradeState.REFUND: PaymentState.REFUNDED,
    TradeState.CLOSED: PaymentState.CLOSED,
    TradeState.REVOKED: PaymentState.CLOSED,
    TradeState.PAYERROR: PaymentState.FAILED,
}

REFUND_STATES: Final[dict[RefundStatus, RefundState]] = {
    RefundStatus.PROCESSING: RefundState.PROCESSING,
    RefundStatus.SUCCESS: RefundState.SUCCESS,
    RefundStatus.CLOSED: RefundState.CLOSED,
    RefundStatus.ABNORMAL: RefundState.ABNORMAL,
}


def payment_state(trade_state: str) -> PaymentState:
    """Our state of a WeChat trade_state; ValueError for one WeChat has not documented."""
    return PAYMENT_STATES[TradeState(trade_state)]


def refund_state(status: str) -> RefundState:
    """Our state of a WeChat refund status; ValueError for one WeChat has not documented."""
    return REFUND_STATES[RefundStatus(status)]
