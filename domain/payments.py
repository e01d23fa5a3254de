"""Our own payment and refund states: what every provider's states are mapped to."""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    """Where a payment order stands, whichever provider carries it.

    Each provider maps its own states here inside its package (for WeChat Pay:
    adapters/payments/wechatpay/states.py); its raw state is kept beside ours for display.
    """

    PENDING = "PENDING"  # created; the payer has not paid (or is paying)
    PAID = "PAID"  # the money is with us
    REFUNDED = "REFUNDED"  # paid, then (partly) sent back
    CLOSED = "CLOSED"  # closed or revoked unpaid: it can no longer be paid
    FAILED = "FAILED"  # the payment failed at the provider


# A payment that moved money: paid, whether or not refunded since.
CHARGED_STATES: frozenset[PaymentState] = frozenset({PaymentState.PAID, PaymentState.REFUNDED})


class RefundState(StrEnum):
    """Where a refund stands, whichever provider carries it."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    CLOSED = "CLOSED"  # the provider gave up; the money did not go back
    ABNORMAL = "ABNORMAL"  # the refund failed (e.g. the payer's card is gone); a person decides
