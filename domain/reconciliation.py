"""Daily reconciliation (对账): compare a day's channel bill with our payments and refunds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from domain.localtime import SHANGHAI
from domain.order_numbers import is_our_order_no
from domain.payments import CHARGED_STATES, PaymentState, RefundState
from domain.vocabulary import ContributionStatus

S = ContributionStatus

# A contribution in one of these has stopped without keeping money: a payment for it is an orphan.
ENDED_UNPAID: Final = frozenset({S.EXPIRED, S.CANCELLED, S.REJECTED})
# A contribution still waiting for its payment: a paid bill line means its callback went missing.
AWAITING: Final = frozenset({S.VERIFYING, S.AWAITING_PAYMENT})
# Trade states that mean the money reached us (REFUND: it did, and is on its way back).
_PAID: Final = CHARGED_STATES

OrphanReason = Literal["UNKNOWN_ORDER", "CONTRIBUTION_ENDED"]
# A paid order storage does not hold: another system's on a shared merchant account, or ours
# but lost (a database restored from a backup). Either way the money may be posted elsewhere.
UnknownReason = Literal["FOREIGN_ORDER", "OUR_ORDER_NOT_STORED"]


def orphan_refund_no(out_trade_no: str) -> str:
    """The refund number of an orphan payment: fixed, so a re-run never refunds twice."""
    return f"RC{out_trade_no}"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- what is compared ---------------------------------------------------------------------------


class BillEntry(_Value):
    """One line of the channel's trade bill, in fen (a refund line carries out_refund_no)."""

    trade_time: datetime
    out_trade_no: str
    transaction_id: str | None = None
    state: PaymentState
    amount_fen: int
    refund_fen: int = 0
    out_refund_no: str | None = None
    refund_status: RefundState | None = None

    @property
    def is_refund(self) -> bool:
        return self.out_refund_no is not None


class OurPayment(_Value):
    """Our record of a payment order, with the status of the contribution it belongs to."""

    out_trade_no: str
    contribution_id: str
    contribution_status: ContributionStatus
    state: PaymentState
    amount_fen: int
    paid_at: datetime | None = None


class OurRefund(_Value):
    out_refund_no: str
    out_trade_no: str
    contribution_id: str
    status: RefundState
    amount_fen: int
    requested_at: datetime


# ---- what is found ------------------------------------------------------------------------------


class MissedCallback(_Value):
    """Paid at the channel, still awaiting payment here: the contribution must be signalled."""

    out_trade_no: str
    contribution_id: str
    transaction_id: str | None
    amount_fen: int
    trade_time: datetime


class OrphanPayment(_Value):
    """Paid at the channel, but no live contribution will keep the money: refund it."""

    out_trade_no: str
    transaction_id: str | None
    amount_fen: int
    trade_time: datetime
    reason: OrphanReason
    contribution_id: str | None = None
    contribution_status: ContributionStatus | None = None
    out_refund_no: str


class UnknownOrder(_Value):
    """Paid at the channel, unknown to storage: never refunded automatically, an operator
    decides (the review queue, storage.reconciliation_reviews)."""

    out_trade_no: str
    transaction_id: str | None
    amount_fen: int
    trade_time: datetime
    reason: UnknownReason


class AmountMismatch(_Value):
    out_trade_no: str
    contribution_id: str
    bill_fen: int
    our_fen: int


class StuckRefund(_Value):
    out_refund_no: str
    out_trade_no: str
    contribution_id: str
    amount_fen: int
    requested_at: datetime
    age_s: int


class MissingFromBill(_Value):
    """We recorded a payment on this day that the channel's bill does not list."""

    out_trade_no: str
    contribution_id: str
    amount_fen: int
    paid_at: datetime | None


class Totals(_Value):
    bill_payments: int = 0
    bill_payment_fen: int = 0
    bill_refunds: int = 0
    bill_refund_fen: int = 0
    our_payments: int = 0
    our_payment_fen: int = 0
    matched: int = 0
    # Bill lines in a state this code does not know: compared by nobody, so never "clean".
    unknown_lines: int = 0


class HealingAction(_Value):
    """What reconciliation did about one finding, and how the channel or workflow answered."""

    kind: Literal["signal", "refund"]
    out_trade_no: str
    contribution_id: str | None = None
    out_refund_no: str | None = None
    outcome: str  # SIGNALLED | WORKFLOW_CLOSED | NOT_PAID | a refund status | REFUSED
    detail: str | None = None


class ReconciliationReport(_Value):
    """A day's reconciliation: totals, every finding, and the actions taken (filled later)."""

    bill_date: date
    as_of: datetime
    totals: Totals
    missed_callbacks: list[MissedCallback] = []
    orphan_payments: list[OrphanPayment] = []
    unknown_orders: list[UnknownOrder] = []
    amount_mismatches: list[AmountMismatch] = []
    stuck_refunds: list[StuckRefund] = []
    missing_from_bill: list[MissingFromBill] = []
    actions: list[HealingAction] = []

    @property
    def clean(self) -> bool:
        return not (
            self.missed_callbacks
            or self.orphan_payments
            or self.unknown_orders
            or self.amount_mismatches
            or self.stuck_refunds
            or self.missing_from_bill
            or self.totals.unknown_lines
        )


# ---- the comparison -----------------------------------------------------------------------------


def _payment_lines(bill: Sequence[BillEntry]) -> dict[str, BillEntry]:
    """One payment line per order; the bill lists an order once, but a repeat must not count."""
    lines: dict[str, BillEntry] = {}
    for entry in bill:
        if not entry.is_refund and entry.state in _PAID:
            lines.setdefault(entry.out_trade_no, entry)
    return lines


def _refund_lines(bill: Sequence[BillEntry]) -> dict[str, BillEntry]:
    lines: dict[str, BillEntry] = {}
    for entry in bill:
        if entry.out_refund_no is not None:
            lines.setdefault(entry.out_refund_no, entry)
    return lines


def reconcile(
    bill_date: date,
    bill: Sequence[BillEntry],
    payments: Sequence[OurPayment],
    refunds: Sequence[OurRefund],
    *,
    as_of: datetime,
    stuck_after: timedelta,
) -> ReconciliationReport:
    """Compare the bill of `bill_date` with our side.

    `payments` are ours for the bill's orders and those we recorded paid on that day;
    `refunds` are ours still PROCESSING (any day). Pure: the caller fetches and acts.
    """
    paid_lines = _payment_lines(bill)
    refund_lines = _refund_lines(bill)
    ours = {p.out_trade_no: p for p in payments}

    missed: list[MissedCallback] = []
    orphans: list[OrphanPayment] = []
    unknown: list[UnknownOrder] = []
    mismatches: list[AmountMismatch] = []
    matched = 0
    for no in sorted(paid_lines):
        line = paid_lines[no]
        mine = ours.get(no)
        if mine is None:
            unknown.append(
                UnknownOrder(
                    out_trade_no=no,
                    transaction_id=line.transaction_id,
                    amount_fen=line.amount_fen,
                    trade_time=line.trade_time,
                    reason="OUR_ORDER_NOT_STORED" if is_our_order_no(no) else "FOREIGN_ORDER",
                )
            )
            continue
        if line.amount_fen != mine.amount_fen:
            # Neither signal nor refund on a wrong amount: a person must look at it.
            mismatches.append(
                AmountMismatch(
                    out_trade_no=no,
                    contribution_id=mine.contribution_id,
                    bill_fen=line.amount_fen,
                    our_fen=mine.amount_fen,
                )
            )
        elif mine.contribution_status in ENDED_UNPAID:
            orphans.append(_orphan(line, "CONTRIBUTION_ENDED", mine))
        elif mine.state not in _PAID and mine.contribution_status in AWAITING:
            missed.append(
                MissedCallback(
                    out_trade_no=no,
                    contribution_id=mine.contribution_id,
                    transaction_id=line.transaction_id,
                    amount_fen=line.amount_fen,
                    trade_time=line.trade_time,
                )
            )
        else:
            matched += 1

    missing = [
        MissingFromBill(
            out_trade_no=p.out_trade_no,
            contribution_id=p.contribution_id,
            amount_fen=p.amount_fen,
            paid_at=p.paid_at,
        )
        for p in sorted(payments, key=lambda p: p.out_trade_no)
        if p.state in _PAID
        and p.out_trade_no not in paid_lines
        and p.paid_at is not None
        and _shanghai_date(p.paid_at) == bill_date
    ]

    stuck = [
        StuckRefund(
            out_refund_no=r.out_refund_no,
            out_trade_no=r.out_trade_no,
            contribution_id=r.contribution_id,
            amount_fen=r.amount_fen,
            requested_at=r.requested_at,
            age_s=int((as_of - r.requested_at).total_seconds()),
        )
        for r in sorted(refunds, key=lambda r: (r.requested_at, r.out_refund_no))
        if r.status == RefundState.PROCESSING and as_of - r.requested_at > stuck_after
    ]

    paid_ours = [p for p in payments if p.state in _PAID]
    totals = Totals(
        bill_payments=len(paid_lines),
        bill_payment_fen=sum(line.amount_fen for line in paid_lines.values()),
        bill_refunds=len(refund_lines),
        bill_refund_fen=sum(line.refund_fen for line in refund_lines.values()),
        our_payments=len(paid_ours),
        our_payment_fen=sum(p.amount_fen for p in paid_ours),
        matched=matched,
    )
    return ReconciliationReport(
        bill_date=bill_date,
        as_of=as_of,
        totals=totals,
        missed_callbacks=missed,
        orphan_payments=orphans,
        unknown_orders=unknown,
        amount_mismatches=mismatches,
        stuck_refunds=stuck,
        missing_from_bill=missing,
    )


def approved_orphans(report: ReconciliationReport, approved: Sequence[str]) -> list[OrphanPayment]:
    """Unknown orders an operator decided to refund, as orphans the run refunds in full."""
    chosen = set(approved)
    return [
        OrphanPayment(
            out_trade_no=u.out_trade_no,
            transaction_id=u.transaction_id,
            amount_fen=u.amount_fen,
            trade_time=u.trade_time,
            reason="UNKNOWN_ORDER",
            out_refund_no=orphan_refund_no(u.out_trade_no),
        )
        for u in report.unknown_orders
        if u.out_trade_no in chosen
    ]


def _orphan(line: BillEntry, reason: OrphanReason, mine: OurPayment | None) -> OrphanPayment:
    return OrphanPayment(
        out_trade_no=line.out_trade_no,
        transaction_id=line.transaction_id,
        amount_fen=line.amount_fen,
        trade_time=line.trade_time,
        reason=reason,
        contribution_id=mine.contribution_id if mine else None,
        contribution_status=mine.contribution_status if mine else None,
        out_refund_no=orphan_refund_no(line.out_trade_no),
    )


def _shanghai_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        return moment.date()  # naive values are taken as already local
    return moment.astimezone(SHANGHAI).date()


def day_bounds(bill_date: date) -> tuple[datetime, datetime]:
    """The Asia/Shanghai calendar day as [start, end) in aware datetimes (+08:00)."""
    start = datetime(bill_date.year, bill_date.month, bill_date.day, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)
