"""Manual review (人工处理): why a contribution waits for an operator, in the payer's words."""

from __future__ import annotations

from domain.payments import RefundState


def refund_review_reason(state: RefundState) -> str:
    """A refund the channel ended without success (CLOSED, ABNORMAL): an operator decides.

    The workflow shows it in its status query and the activity stores it with MANUAL_REVIEW, so
    the status page reads the same words from either.
    """
    return f"退款状态 {state.value}，需人工处理"


def refund_unsettled_reason(code: str) -> str:
    """A refund the channel kept answering with a conflict or an unknown code (its code only)."""
    return f"退款请求多次未果（{code}），需人工处理"
