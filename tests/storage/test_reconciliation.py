"""Reconciliation storage: our side of a bill date, stuck refunds, and the daily reports."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.payments.wechatpay.states import TradeState, payment_state
from domain.payments import PaymentState, RefundState
from domain.reconciliation import day_bounds
from domain.vocabulary import Channel, ContributionStatus
from storage import reconciliation as repo
from storage.payments import add_payment, update_payment_state
from storage.refunds import add_refund, update_refund
from tests.storage.conftest import T0, make_contribution, make_person


def wechat(state: TradeState) -> tuple[PaymentState, str]:
    """Our state and WeChat's word for it, as the WeChat adapter reports an order."""
    return payment_state(state), state.value


# T0 is 2026-03-01 10:00 in Shanghai.
DAY = date(2026, 3, 1)


async def _payment(
    sm: async_sessionmaker[AsyncSession], cid: str, no: str, *, paid_minutes: int | None
) -> None:
    async with sm.begin() as session:
        await add_payment(
            session,
            out_trade_no=no,
            contribution_id=cid,
            channel=Channel.WECHAT_BALANCE,
            amount_fen=87267,
            expires_at=T0 + timedelta(minutes=15),
            at=T0,
            provider="wechatpay",
            product="h5",
            provider_state="NOTPAY",
        )
        if paid_minutes is not None:
            await update_payment_state(
                session,
                no,
                *wechat(TradeState.SUCCESS),
                transaction_id="4200" + no,
                paid_at=T0 + timedelta(minutes=paid_minutes),
                at=T0,
            )


async def test_our_side_holds_the_bills_orders_and_those_we_recorded_paid_that_day(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    for cid, month in (("c-a", "2026-01"), ("c-b", "2026-02"), ("c-c", "2026-03")):
        await make_contribution(
            sessionmaker, person, cid, [month], status=ContributionStatus.AWAITING_PAYMENT
        )
    await _payment(sessionmaker, "c-a", "SBa01", paid_minutes=None)  # named by the bill
    await _payment(sessionmaker, "c-b", "SBb01", paid_minutes=30)  # paid that day, not in bill
    await _payment(sessionmaker, "c-c", "SBc01", paid_minutes=24 * 60)  # paid the next day
    start, end = day_bounds(DAY)
    async with sessionmaker() as session:
        pairs = await repo.payments_for_reconciliation(
            session, ["SBa01", "SBzz"], paid_from=start, paid_to=end
        )
    assert [(p.out_trade_no, c.id, c.status) for p, c in pairs] == [
        ("SBa01", "c-a", ContributionStatus.AWAITING_PAYMENT),
        ("SBb01", "c-b", ContributionStatus.AWAITING_PAYMENT),
    ]


async def test_many_bill_orders_are_looked_up_in_chunks(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    start, end = day_bounds(DAY)
    async with sessionmaker() as session:
        pairs = await repo.payments_for_reconciliation(
            session, [f"SB{i:05d}" for i in range(1234)], paid_from=start, paid_to=end
        )
    assert pairs == []


async def test_only_refunds_processing_since_before_the_cutoff_are_listed(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    person = await make_person(sessionmaker)
    await make_contribution(sessionmaker, person, "c-r", ["2026-01"])
    await _payment(sessionmaker, "c-r", "SBr01", paid_minutes=1)
    async with sessionmaker.begin() as session:
        for no, minutes in (("RFold", 0), ("RFdone", 1), ("RFyoung", 60)):
            await add_refund(
                session,
                out_refund_no=no,
                contribution_id="c-r",
                out_trade_no="SBr01",
                amount_fen=100,
                reason="test",
                at=T0 + timedelta(minutes=minutes),
            )
        await update_refund(session, "RFdone", RefundState.SUCCESS, at=T0 + timedelta(minutes=5))
    async with sessionmaker() as session:
        stuck = await repo.processing_refunds(session, requested_before=T0 + timedelta(minutes=30))
    assert [r.out_refund_no for r in stuck] == ["RFold"]


def _counts(orphans: int) -> dict[str, int]:
    return {
        "bill_payments": 3,
        "bill_payment_fen": 261801,
        "missed_callbacks": 1,
        "orphan_payments": orphans,
        "amount_mismatches": 0,
        "stuck_refunds": 0,
        "missing_from_bill": 0,
    }


async def test_a_report_is_stored_replaced_by_a_rerun_and_listed_newest_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await repo.save_report(
            session,
            bill_date=DAY,
            workflow_id="reconciliation-2026-03-01",
            counts=_counts(2),
            clean=False,
            report={"orphan_payments": [{"out_trade_no": "X"}, {"out_trade_no": "Y"}]},
            at=T0,
        )
        await repo.save_report(
            session,
            bill_date=DAY - timedelta(days=1),
            workflow_id="reconciliation-scheduled-x",
            counts=_counts(0) | {"missed_callbacks": 0},
            clean=True,
            report={},
            at=T0,
        )
    async with sessionmaker.begin() as session:
        await repo.save_report(
            session,
            bill_date=DAY,
            workflow_id="reconciliation-2026-03-01",
            counts=_counts(0),
            clean=False,
            report={"orphan_payments": []},
            at=T0 + timedelta(hours=1),
        )
    async with sessionmaker() as session:
        row = await repo.get_report(session, DAY)
        listed = await repo.list_reports(session)
        with_findings = await repo.list_reports(session, only_with_findings=True)
        one_day = await repo.list_reports(session, bill_date=DAY - timedelta(days=1))
        missing = await repo.get_report(session, DAY + timedelta(days=1))
    assert row is not None
    assert (row.orphan_payments, row.report, row.created_at, row.updated_at) == (
        0,
        {"orphan_payments": []},
        T0,
        T0 + timedelta(hours=1),
    )
    assert [r.bill_date for r in listed] == [DAY, DAY - timedelta(days=1)]
    assert [r.bill_date for r in with_findings] == [DAY]
    assert [r.clean for r in one_day] == [True]
    assert missing is None
