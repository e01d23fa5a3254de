"""Messages of the contribution workflow: input, activity requests/results, signals, view."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import (
    Channel,
    ContributionStatus,
    Insurance,
    PostingState,
    RefundState,
    RejectReason,
    TradeState,
)


class Message(BaseModel):
    """Base of every message that crosses a process boundary (frozen, strict fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class QuoteLine(Message):
    month: str
    base_fen: int
    rate: str
    amount_fen: int
    interest_fen: int = 0


class Timings(Message):
    """How long the workflow waits and how often it asks; production values come from settings."""

    payment_window_s: int = 15 * 60
    payment_poll_interval_s: int = 60
    posting_poll_interval_s: int = 10 * 60
    treasury_poll_interval_s: int = 60 * 60
    refund_poll_interval_s: int = 5 * 60


class ContributionInput(Message):
    """What the API hands the workflow at start. Personal data is referenced, not copied."""

    contribution_id: str
    quote_id: str
    person_id: str
    payer_ref: str
    requested_by_person_id: str | None = None
    insurance: Insurance
    months: list[str]
    grade: int
    back_payment: bool
    channel: Channel
    lines: list[QuoteLine]
    total_fen: int
    timings: Timings = Field(default_factory=Timings)


# ---- activity requests and results -------------------------------------------------------------


class VerifyRequest(Message):
    contribution: ContributionInput
    at: datetime


class AssessRequest(Message):
    insurance: Insurance
    months: list[str]
    grade: int
    back_payment: bool
    on: date


class AssessOutcome(Message):
    lines: list[QuoteLine]
    total_fen: int


class VerifyOutcome(Message):
    accepted: bool
    reason: RejectReason | None = None
    # The live contribution that already holds one of the months (MONTH_IN_FLIGHT).
    holder_contribution_id: str | None = None
    treasury_lag_business_days: int = 3
    # The amount due under the policy book the verdict read, on the verdict's (UTC) date; None
    # from a worker before this field, whose workflows then ask the ASSESS step.
    assessment: AssessOutcome | None = None


class ChargeRequest(Message):
    contribution_id: str
    out_trade_no: str
    amount_fen: int
    expires_at: datetime
    channel: Channel
    description: str
    at: datetime


class PaymentOrder(Message):
    out_trade_no: str
    cashier_url: str | None
    prepay_id: str
    expires_at: datetime


class PaymentCheck(Message):
    out_trade_no: str
    trade_state: TradeState
    transaction_id: str | None = None
    amount_fen: int = 0
    paid_at: datetime | None = None
    bank_type: str | None = None


class RecordPaymentRequest(Message):
    contribution_id: str
    payment: PaymentCheck
    treasury_lag_business_days: int
    at: datetime


class PaymentRecorded(Message):
    expected_treasury_date: date
    calendar_fallback: bool = False


class PostingRequestMsg(Message):
    contribution_id: str
    payer_ref: str
    insurance: Insurance
    months: list[str]
    amount_fen: int
    paid_at: datetime
    at: datetime


class PostingCheck(Message):
    posting_id: str
    state: PostingState
    reason: str | None = None


class PostingCheckRequest(Message):
    contribution_id: str
    posting_id: str
    at: datetime


class RefundOrder(Message):
    contribution_id: str
    out_refund_no: str
    out_trade_no: str
    amount_fen: int
    total_fen: int
    reason: str
    at: datetime


class RefundCheckRequest(Message):
    contribution_id: str
    out_refund_no: str
    at: datetime


class RefundCheck(Message):
    out_refund_no: str
    status: RefundState
    refund_id: str | None = None


class TreasuryCheckRequest(Message):
    contribution_id: str
    out_trade_no: str
    amount_fen: int
    paid_at: datetime
    lag_business_days: int
    at: datetime


class TreasuryResult(Message):
    receipt_no: str
    treasury_date: date


class StatusChange(Message):
    """A status the workflow reached that no step activity records itself."""

    contribution_id: str
    status: ContributionStatus
    at: datetime
    detail: str | None = None
    reject_reason: RejectReason | None = None
    release_months: bool = False


class CertifyRequest(Message):
    contribution_id: str
    at: datetime


# ---- signals and updates -----------------------------------------------------------------------


class PaymentNotice(Message):
    """A verified payment-channel notification, relayed by the notify endpoint as a signal."""

    event_id: str
    out_trade_no: str
    trade_state: TradeState
    transaction_id: str | None = None
    amount_fen: int
    success_time: datetime | None = None
    bank_type: str | None = None


class RefundNotice(Message):
    event_id: str
    out_refund_no: str
    status: RefundState


class CancelRequest(Message):
    reason: str = "payer"


class ResolveReview(Message):
    """An operator's decision on a contribution in MANUAL_REVIEW."""

    action: str  # "retry_refund" | "mark_refunded"
    note: str
    operator: str = "operator"


# ---- what the workflow shows -------------------------------------------------------------------


class TimelineEntry(Message):
    status: ContributionStatus
    at: datetime


class PaymentView(Message):
    out_trade_no: str
    channel: Channel
    cashier_url: str | None = None
    expires_at: datetime
    trade_state: TradeState = TradeState.NOTPAY
    transaction_id: str | None = None
    paid_at: datetime | None = None


class RefundView(Message):
    out_refund_no: str
    status: RefundState
    amount_fen: int
    requested_at: datetime


class ContributionView(Message):
    """The workflow's answer to the status query: everything the payer's status page needs."""

    contribution_id: str
    status: ContributionStatus
    timeline: list[TimelineEntry]
    insurance: Insurance
    months: list[str]
    total_fen: int
    channel: Channel
    payment: PaymentView | None = None
    refund: RefundView | None = None
    reject_reason: RejectReason | None = None
    holder_contribution_id: str | None = None
    posting_state: PostingState | None = None
    posting_reason: str | None = None
    expected_treasury_date: date | None = None
    treasury_date: date | None = None
    certificate_ready: bool = False
    review_reason: str | None = None


# ---- the contract between workflow and activities -----------------------------------------------


class ActivityName:
    """Activity type names: the workflow calls them by name so it never imports storage code."""

    VERIFY_AND_RESERVE = "verify_and_reserve"
    ASSESS = "assess"
    CREATE_PAYMENT_ORDER = "create_payment_order"
    QUERY_PAYMENT = "query_payment"
    CLOSE_PAYMENT_ORDER = "close_payment_order"
    RECORD_PAYMENT = "record_payment"
    SUBMIT_POSTING = "submit_posting"
    CHECK_POSTING = "check_posting"
    REQUEST_REFUND = "request_refund"
    CHECK_REFUND = "check_refund"
    CHECK_TREASURY = "check_treasury"
    ISSUE_CERTIFICATE_ELIGIBILITY = "issue_certificate_eligibility"
    RECORD_STATUS = "record_status"
