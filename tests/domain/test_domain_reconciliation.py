"""Reconciliation's comparison: missed callbacks, orphans, mismatches, stuck refunds, totals."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.order_numbers import is_our_order_no, payment_order_no
from domain.payments import PaymentState, RefundState
from domain.reconciliation import (
    AWAITING,
    ENDED_UNPAID,
    BillEntry,
    OurPayment,
    OurRefund,
    ReconciliationReport,
    approved_orphans,
    day_bounds,
    orphan_refund_no,
    reconcile,
)
from domain.vocabulary import ContributionStatus

S = ContributionStatus
DAY = date(2026, 11, 26)
# 10:00 Shanghai on DAY.
NOON = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)
STUCK_AFTER = timedelta(days=5)


def line(no: str, fen: int = 30000, state: PaymentState = PaymentState.PAID) -> BillEntry:
    return BillEntry(
        trade_time=NOON,
        out_trade_no=no,
        transaction_id=f"4200{no}",
        state=state,
        amount_fen=fen,
    )


def refund_line(no: str, refund_no: str, fen: int = 30000) -> BillEntry:
    return BillEntry(
        trade_time=NOON,
        out_trade_no=no,
        transaction_id=f"4200{no}",
        state=PaymentState.REFUNDED,
        amount_fen=fen,
        refund_fen=fen,
        out_refund_no=refund_no,
        refund_status=RefundState.PROCESSING,
    )


def ours(
    no: str,
    status: ContributionStatus,
    *,
    fen: int = 30000,
    state: PaymentState | None = None,
    paid_at: datetime | None = None,
) -> OurPayment:
    paid = status not in AWAITING and status not in ENDED_UNPAID
    return OurPayment(
        out_trade_no=no,
        contribution_id=f"c{no}",
        contribution_status=status,
        state=state or (PaymentState.PAID if paid else PaymentState.PENDING),
        amount_fen=fen,
        paid_at=paid_at if paid_at is not None else (NOON if paid else None),
    )


def run(
    bill: Sequence[BillEntry],
    payments: Sequence[OurPayment] = (),
    refunds: Sequence[OurRefund] = (),
) -> ReconciliationReport:
    return reconcile(DAY, bill, payments, refunds, as_of=AS_OF, stuck_after=STUCK_AFTER)


def test_a_matching_day_is_clean_and_counted():
    report = run(
        [line("SB1"), line("SB2", 12345)],
        [ours("SB1", S.COMPLETED), ours("SB2", S.PAID, fen=12345)],
    )
    assert report.clean
    assert report.totals.bill_payments == 2
    assert report.totals.bill_payment_fen == 42345
    assert report.totals.our_payment_fen == 42345
    assert report.totals.matched == 2


def test_a_paid_order_still_awaiting_payment_is_a_missed_callback():
    report = run([line("SB1")], [ours("SB1", S.AWAITING_PAYMENT)])
    assert [m.out_trade_no for m in report.missed_callbacks] == ["SB1"]
    assert report.missed_callbacks[0].contribution_id == "cSB1"
    assert report.orphan_payments == []
    assert not report.clean


def test_a_payment_for_an_order_storage_does_not_hold_is_queued_never_refunded():
    ours_lost = payment_order_no("0123456789abcdef01234567")
    report = run([line("XX9"), line(ours_lost)])
    assert report.orphan_payments == [] and not report.clean
    assert {(u.out_trade_no, u.reason) for u in report.unknown_orders} == {
        ("XX9", "FOREIGN_ORDER"),
        (ours_lost, "OUR_ORDER_NOT_STORED"),
    }


def test_an_unknown_order_an_operator_approved_is_refunded_under_a_fixed_number():
    report = run([line("XX9"), line("XX8")])
    (orphan,) = approved_orphans(report, ["XX9"])
    assert (orphan.reason, orphan.contribution_id) == ("UNKNOWN_ORDER", None)
    assert orphan.out_refund_no == orphan_refund_no("XX9") == "RCXX9"
    assert approved_orphans(report, ["XX9"])[0].out_refund_no == orphan.out_refund_no
    assert approved_orphans(report, ["YY1"]) == []


def test_our_order_numbers_are_recognised_by_their_form():
    no = payment_order_no("0123456789abcdef01234567")
    assert no == "SB0123456789abcdef0123456701" and is_our_order_no(no)
    for other in ("XX9", "SB1", no + "0", no.upper(), "ZZ" + no[2:]):
        assert not is_our_order_no(other)


def test_a_payment_whose_contribution_ended_unpaid_is_an_orphan():
    for status in (S.EXPIRED, S.CANCELLED, S.REJECTED):
        report = run([line("SB1")], [ours("SB1", status, state=PaymentState.CLOSED)])
        (orphan,) = report.orphan_payments
        assert (orphan.reason, orphan.contribution_status) == ("CONTRIBUTION_ENDED", status)
        assert report.missed_callbacks == []


def test_an_amount_mismatch_is_flagged_and_neither_signalled_nor_refunded():
    report = run([line("SB1", 30001)], [ours("SB1", S.AWAITING_PAYMENT)])
    (mismatch,) = report.amount_mismatches
    assert (mismatch.bill_fen, mismatch.our_fen) == (30001, 30000)
    assert report.missed_callbacks == [] and report.orphan_payments == []


def test_a_refunded_contribution_is_not_an_orphan():
    report = run(
        [line("SB1"), refund_line("SB1", "RFc01")],
        [ours("SB1", S.REFUNDED, state=PaymentState.REFUNDED)],
    )
    assert report.orphan_payments == [] and report.missed_callbacks == []
    assert (report.totals.bill_refunds, report.totals.bill_refund_fen) == (1, 30000)
    assert report.totals.bill_payments == 1


def test_refund_lines_are_not_payments():
    report = run([refund_line("SB1", "RFc01")], [])
    assert report.orphan_payments == [] and report.totals.bill_payments == 0


def test_a_refund_processing_beyond_the_threshold_is_stuck():
    old = OurRefund(
        out_refund_no="RFold",
        out_trade_no="SB1",
        contribution_id="c1",
        status=RefundState.PROCESSING,
        amount_fen=100,
        requested_at=AS_OF - STUCK_AFTER - timedelta(seconds=1),
    )
    young = old.model_copy(update={"out_refund_no": "RFyoung", "requested_at": AS_OF - STUCK_AFTER})
    done = old.model_copy(update={"out_refund_no": "RFdone", "status": RefundState.SUCCESS})
    report = run([], [], [old, young, done])
    assert [r.out_refund_no for r in report.stuck_refunds] == ["RFold"]
    assert report.stuck_refunds[0].age_s == int(STUCK_AFTER.total_seconds()) + 1


def test_a_payment_we_recorded_that_day_but_the_bill_lacks_is_flagged():
    start, _ = day_bounds(DAY)
    late_evening = start + timedelta(hours=23, minutes=59)
    next_day = start + timedelta(days=1)
    report = run(
        [],
        [ours("SB1", S.PAID, paid_at=late_evening), ours("SB2", S.PAID, paid_at=next_day)],
    )
    assert [m.out_trade_no for m in report.missing_from_bill] == ["SB1"]


def test_day_bounds_are_the_shanghai_calendar_day():
    start, end = day_bounds(DAY)
    assert start.astimezone(UTC) == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


statuses = st.sampled_from(list(ContributionStatus))
orders = st.dictionaries(
    st.from_regex(r"SB[0-9]{4}", fullmatch=True),
    st.tuples(
        st.integers(min_value=1, max_value=10**7),  # bill fen
        st.one_of(st.none(), st.tuples(statuses, st.integers(min_value=1, max_value=10**7))),
    ),
    max_size=30,
)


@settings(max_examples=200)
@given(orders)
def test_every_paid_line_lands_in_exactly_one_bucket_and_totals_add_up(day):
    bill = [line(no, fen) for no, (fen, _) in day.items()]
    payments = [
        ours(no, status, fen=fen) for no, (_, mine) in day.items() if mine for status, fen in [mine]
    ]
    report = run(bill, payments)
    buckets = (
        [m.out_trade_no for m in report.missed_callbacks]
        + [o.out_trade_no for o in report.orphan_payments]
        + [u.out_trade_no for u in report.unknown_orders]
        + [m.out_trade_no for m in report.amount_mismatches]
    )
    assert len(buckets) == len(set(buckets))
    assert len(buckets) + report.totals.matched == len(day)
    assert report.totals.bill_payment_fen == sum(fen for fen, _ in day.values())
    for orphan in report.orphan_payments:
        mine = day[orphan.out_trade_no][1]
        assert mine is not None and mine[0] in ENDED_UNPAID
    # Nothing storage does not hold is ever refunded without an operator.
    assert {u.out_trade_no for u in report.unknown_orders} == {
        no for no, (_, mine) in day.items() if mine is None
    }
    for missed in report.missed_callbacks:
        status, fen = day[missed.out_trade_no][1] or (None, None)
        assert status in AWAITING and fen == day[missed.out_trade_no][0]
    # Nothing with a wrong amount is ever healed automatically.
    for no, (fen, mine) in day.items():
        if mine is not None and mine[1] != fen:
            assert no in {m.out_trade_no for m in report.amount_mismatches}


@settings(max_examples=100)
@given(orders)
def test_reconciling_is_deterministic_and_independent_of_line_order(day):
    bill = [line(no, fen) for no, (fen, _) in day.items()]
    payments = [
        ours(no, status, fen=fen) for no, (_, mine) in day.items() if mine for status, fen in [mine]
    ]
    assert run(bill, payments) == run(list(reversed(bill)), list(reversed(payments)))
