"""How channel bill lines reach the comparison: states parsed, unknown ones counted apart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import cast

from activities.reconciliation import bill_entry
from adapters.payments.interface import BillRow, PaymentChannel
from adapters.payments.wechatpay import provider as wechatpay
from domain.payments import PaymentState, RefundState
from domain.reconciliation import reconcile

AT = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
# Only WeChat Pay's state mapping is used here, never its channel.
WECHATPAY = wechatpay.provider(cast(PaymentChannel, object()))


def test_payment_and_refund_lines_keep_their_states_and_fen() -> None:
    paid = bill_entry(
        BillRow(
            trade_time=AT,
            out_trade_no="SB1",
            transaction_id="42001",
            trade_state="SUCCESS",
            amount_fen=30000,
        ),
        WECHATPAY,
    )
    refund = bill_entry(
        BillRow(
            trade_time=AT,
            out_trade_no="SB1",
            transaction_id="",
            trade_state="REFUND",
            amount_fen=30000,
            refund_fen=30000,
            out_refund_no="RC1",
            refund_status="PROCESSING",
        ),
        WECHATPAY,
    )
    assert paid is not None and refund is not None
    assert (paid.state, paid.is_refund, paid.transaction_id) == (
        PaymentState.PAID,
        False,
        "42001",
    )
    assert (refund.refund_status, refund.refund_fen, refund.transaction_id) == (
        RefundState.PROCESSING,
        30000,
        None,
    )


def test_a_line_in_an_unknown_state_is_set_apart_and_the_day_is_not_clean() -> None:
    row = BillRow(
        trade_time=AT,
        out_trade_no="SB1",
        transaction_id="42001",
        trade_state="全额退款",
        amount_fen=1,
    )
    assert bill_entry(row, WECHATPAY) is None
    report = reconcile(date(2026, 11, 26), [], [], [], as_of=AT, stuck_after=AT - AT)
    assert report.clean
    flagged = report.model_copy(
        update={"totals": report.totals.model_copy(update={"unknown_lines": 1})}
    )
    assert not flagged.clean
