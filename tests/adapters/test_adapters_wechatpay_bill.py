"""The trade bill file format, and the simulator's bill of one Asia/Shanghai day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.errors import TransientError
from adapters.payments.interface import BillRow, CreateOrder, RefundRequest
from adapters.payments.wechatpay.bill import (
    HEADER,
    SUMMARY_HEADER,
    parse_trade_bill,
    render_trade_bill,
)
from simulators.payments import PaymentSimulator
from tests.simulators.fakes import FakeClock

# A bill as WeChat writes it: backticks before every field, yuan amounts, a summary at the end.
_PAID = (
    "`2026-03-02 10:15:01,`wxd678efh567hg6787,`1900000109,`0,`,`4200000001202603021234567890,"
    "`SB20260302A,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`872.67,`0.00,`0,"
    "`0,`0.00,`0.00,`,`,`养老保险,`,`5.24000,`0.60%,`872.67,`0.00,`"
)
_REFUND = (
    "`2026-03-02 11:00:00,`wxd678efh567hg6787,`1900000109,`0,`,`4200000001202603021234567891,"
    "`SB20260302B,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.10,`0.00,"
    "`50000000012026030200000000001,`RSB20260302B,`0.10,`0.00,`ORIGINAL,`SUCCESS,`养老保险,`,"
    "`0.00000,`0.60%,`0.10,`0.10,`"
)
REAL_LOOKING = "\n".join(
    [
        ",".join(HEADER),
        _PAID,
        _REFUND,
        ",".join(SUMMARY_HEADER),
        "`2,`872.77,`0.10,`0.00,`5.24000,`872.77,`0.10",
        "",
    ]
)


def test_a_wechat_bill_parses_to_exact_fen_without_backticks_or_summary() -> None:
    rows = parse_trade_bill(REAL_LOOKING)
    assert len(rows) == 2
    paid, refund = rows
    assert paid.out_trade_no == "SB20260302A" and paid.trade_state == "SUCCESS"
    assert paid.amount_fen == 87267 and paid.refund_fen == 0 and paid.out_refund_no is None
    assert paid.transaction_id == "4200000001202603021234567890"
    assert paid.trade_time == datetime(2026, 3, 2, 2, 15, 1, tzinfo=UTC)
    assert refund.trade_state == "REFUND" and refund.refund_fen == 10
    assert refund.out_refund_no == "RSB20260302B" and refund.refund_status == "SUCCESS"


def test_rendered_bills_parse_back_to_the_same_rows() -> None:
    at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    rows = [
        BillRow(
            trade_time=at,
            out_trade_no="SB1",
            transaction_id="4200001",
            trade_state="SUCCESS",
            amount_fen=1,
        ),
        BillRow(
            trade_time=at + timedelta(hours=1),
            out_trade_no="SB1",
            transaction_id="4200001",
            trade_state="REFUND",
            amount_fen=1,
            refund_fen=1,
            out_refund_no="R1",
            refund_status="PROCESSING",
        ),
    ]
    text = render_trade_bill(rows, appid="wx1", mchid="190")
    assert all(line.startswith("`") for line in text.splitlines()[1:3])
    assert parse_trade_bill(text) == rows


@pytest.mark.parametrize("amount", ["872.675", "8,72", "abc"])
def test_a_malformed_amount_is_an_error_not_a_guess(amount: str) -> None:
    broken = REAL_LOOKING.replace("`872.67,`0.00,`0,", f"`{amount},`0.00,`0,", 1)
    with pytest.raises(TransientError) as err:
        parse_trade_bill(broken)
    assert err.value.code == "BILL_MALFORMED"


async def test_the_simulator_bill_covers_one_shanghai_day(
    payments: PaymentSimulator, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    # 2 March 23:59:59 and 3 March 00:00:00 in Shanghai fall on different bills.
    clock.now = datetime(2026, 3, 2, 15, 59, 59, tzinfo=UTC)
    late = make_order(time_expire=clock() + timedelta(minutes=15))
    await payments.create_order(late)
    await payments.pay(late.out_trade_no)
    clock.advance(seconds=1)
    early = make_order(time_expire=clock() + timedelta(minutes=15))
    await payments.create_order(early)
    await payments.pay(early.out_trade_no)
    await payments.refund(
        RefundRequest(
            out_refund_no="R-early",
            out_trade_no=early.out_trade_no,
            amount_fen=early.amount_fen,
            total_fen=early.amount_fen,
            reason="退款",
        )
    )
    first = await payments.trade_bill(date(2026, 3, 2))
    second = await payments.trade_bill(date(2026, 3, 3))
    assert [(r.out_trade_no, r.trade_state) for r in first] == [(late.out_trade_no, "SUCCESS")]
    assert [(r.out_trade_no, r.trade_state, r.refund_status) for r in second] == [
        (early.out_trade_no, "SUCCESS", None),
        (early.out_trade_no, "REFUND", "PROCESSING"),
    ]
    assert second[1].refund_fen == early.amount_fen
