"""Messages of the reconciliation workflow: input, activity requests/results, summary."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from domain.reconciliation import BillEntry, OurPayment, OurRefund, ReconciliationReport

# WeChat promises payers a refund within 2–5 days: PROCESSING beyond that needs a person.
DEFAULT_STUCK_REFUND_AFTER_S = 5 * 24 * 3600


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReconciliationInput(_Message):
    """bill_date None: yesterday in Asia/Shanghai, as of the workflow's start (the schedule)."""

    bill_date: date | None = None
    stuck_refund_after_s: int = DEFAULT_STUCK_REFUND_AFTER_S


class BillFetched(_Message):
    entries: list[BillEntry]
    # Lines whose state this code does not know: counted, so nothing vanishes silently.
    unknown_lines: int = 0


class OurSideRequest(_Message):
    bill_date: date
    out_trade_nos: list[str]
    stuck_before: datetime


class OurSide(_Message):
    payments: list[OurPayment]
    refunds: list[OurRefund]
    # Orders storage does not hold that an operator decided to refund (the review queue).
    approved_refunds: list[str] = []


class StoreReport(_Message):
    report: ReconciliationReport
    workflow_id: str


class ReconciliationSummary(_Message):
    """What the run returns (and what Temporal UI shows): counts only, no personal data."""

    bill_date: date
    bill_payments: int
    bill_payment_fen: int
    missed_callbacks: int
    orphan_payments: int
    unknown_orders: int = 0
    amount_mismatches: int
    stuck_refunds: int
    missing_from_bill: int
    signalled: int
    refunds_requested: int
