"""What callers of the workflows rely on: IDs, task queue, signal names, steps and messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from domain.payer_messages import MessageKind
from domain.payments import PaymentState, RefundState
from domain.reconciliation import HealingAction, MissedCallback, OrphanPayment
from domain.reconciliation_messages import BillFetched, OurSide, OurSideRequest, StoreReport
from domain.vocabulary import (
    Channel,
    ContributionStatus,
    Insurance,
    PostingState,
    RejectReason,
)

# ---- where the workflows live and what they are called ---------------------------------------

# The default task queue of API and worker (settings.task_queue may override it).
TASK_QUEUE = "shebao-contributions"


def workflow_id(contribution_id: str) -> str:
    """`contribution-<id>`: random, no personal data."""
    return f"contribution-{contribution_id}"


def reconciliation_workflow_id(bill_date: date) -> str:
    """`reconciliation-<date>`: one run per date at a time; a finished one may run again."""
    return f"reconciliation-{bill_date.isoformat()}"


# The daily schedule, and the prefix of the runs it starts (Temporal appends the start time).
RECONCILIATION_SCHEDULE_ID = "reconciliation-daily"
RECONCILIATION_SCHEDULED_WORKFLOW_ID = "reconciliation-scheduled"
# The daily reminder run (workflows/reminders.py), and the prefix of its runs.
REMINDER_SCHEDULE_ID = "payer-reminders-daily"
REMINDER_SCHEDULED_WORKFLOW_ID = "payer-reminders-scheduled"
# The daily purge of expired rows (workflows/purge.py), and the prefix of its runs.
PURGE_SCHEDULE_ID = "purge-daily"
PURGE_SCHEDULED_WORKFLOW_ID = "purge-scheduled"

# Signal names of ContributionWorkflow. Callers that may import the workflow use its method
# references (handle.signal(ContributionWorkflow.payment_notified, ...)); activities may not
# (the workflow's sandboxed imports would then run in the worker), so they signal by name.
# Updates and queries (payment_details, cancel, resolve_review, status) are only ever called by
# method reference, under their method names: `@workflow.update(name=...)` would lose the
# result type those references carry for mypy.
PAYMENT_NOTIFIED = "payment_notified"
REFUND_NOTIFIED = "refund_notified"


# The error type a refund step fails with when the channel answers with a conflict, an unknown
# code or an outcome it cannot tell (its details: the channel's code). Retrying the same call
# cannot be expected to help, so the workflow retries it a bounded number of times itself and
# then hands the refund to an operator (MANUAL_REVIEW).
REFUND_UNSETTLED = "RefundUnsettled"


class ReviewAction(StrEnum):
    """An operator's way out of MANUAL_REVIEW (the resolve route takes exactly these strings)."""

    RETRY_REFUND = "retry_refund"
    MARK_REFUNDED = "mark_refunded"


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
    # The payment provider (by its registered name) and its product, decided at start and
    # kept for the contribution's life: changing settings never moves one in flight.
    provider: str
    product: str
    # Who pays, as the channel needs it: the payer's openid (JSAPI, inside WeChat) or address
    # (H5). Personal data: only in the (encrypted) payloads, never in IDs or attributes.
    payer_openid: str | None = None
    payer_client_ip: str | None = None
    lines: list[QuoteLine]
    total_fen: int
    timings: Timings = Field(default_factory=Timings)


# ---- activity requests and results -------------------------------------------------------------


class VerifyRequest(Message):
    contribution: ContributionInput
    at: datetime


class AssessOutcome(Message):
    lines: list[QuoteLine]
    total_fen: int


class VerifyOutcome(Message):
    accepted: bool
    reason: RejectReason | None = None
    # The live contribution that already holds one of the months (MONTH_IN_FLIGHT).
    holder_contribution_id: str | None = None
    treasury_lag_business_days: int = 3
    # The amount due under the policy book the verdict read, on the verdict's Asia/Shanghai date;
    # set whenever the verdict is accepted.
    assessment: AssessOutcome | None = None


class ChargeRequest(Message):
    contribution_id: str
    out_trade_no: str
    amount_fen: int
    expires_at: datetime
    channel: Channel
    provider: str
    product: str
    description: str
    at: datetime
    payer_openid: str | None = None
    payer_client_ip: str | None = None


class PaymentOrder(Message):
    out_trade_no: str
    cashier_url: str | None
    prepay_id: str
    expires_at: datetime
    # The provider's own word for an unpaid order (WeChat: NOTPAY), for the status view.
    provider_state: str | None = None
    # JSAPI orders: what the WeChat page passes to WeixinJSBridge (paySign included).
    jsapi: dict[str, str] | None = None


class PaymentCheck(Message):
    out_trade_no: str
    state: PaymentState
    # The provider's own word for it (WeChat: SUCCESS, NOTPAY, ...), stored for display.
    provider_state: str
    transaction_id: str | None = None
    amount_fen: int = 0
    paid_at: datetime | None = None
    bank_type: str | None = None
    # What actually paid, as the provider reads its bank_type (None: it did not say).
    paid_with: Channel | None = None


class RecordPaymentRequest(Message):
    contribution_id: str
    payment: PaymentCheck
    treasury_lag_business_days: int
    at: datetime


class PaymentRecorded(Message):
    expected_treasury_date: date
    # The date leans on a provisional calendar year (no official table, beyond chinese-calendar).
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
    # MANUAL_REVIEW's reason when the workflow names it (else derived from a refund state).
    review_reason: str | None = None


class CertifyRequest(Message):
    contribution_id: str
    at: datetime


class PayerNotice(Message):
    """Tell the payer about their contribution (消息, and WeChat when bound): once per kind."""

    contribution_id: str
    kind: MessageKind
    at: datetime


# ---- signals and updates -----------------------------------------------------------------------


class PaymentNotice(Message):
    """A verified payment-channel notification, relayed by the notify endpoint as a signal."""

    event_id: str
    out_trade_no: str
    state: PaymentState
    provider_state: str
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

    action: ReviewAction
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
    state: PaymentState = PaymentState.PENDING
    # The provider's own word for the state, as payers see it (None: not asked yet).
    provider_state: str | None = None
    transaction_id: str | None = None
    paid_at: datetime | None = None
    # What actually paid (WeChat: from the notification's bank_type), once known.
    paid_with: Channel | None = None


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
    expected_treasury_provisional: bool = False
    treasury_date: date | None = None
    certificate_ready: bool = False
    review_reason: str | None = None


# ---- the steps: activity name, argument and result, in one place -------------------------------

In = TypeVar("In")
Out = TypeVar("Out")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Step(Generic[In, Out]):
    """An activity as the workflow calls it: its registered name and the types it takes and gives.

    Workflows call steps by name so they never import activity code; the types make a changed
    argument or result a mypy error at the call, and tests/workflows/test_contract.py checks
    that the activity registered under each name is annotated with the same types.
    """

    name: str
    arg_type: type[In]
    result_type: type[Out]

    @staticmethod
    def maybe(name: str, arg_type: type[In], result_type: type[Result]) -> Step[In, Result | None]:
        """A step that may answer None: the converter is handed the optional type."""
        optional: type[Result | None] = result_type | None  # type: ignore[assignment]
        return Step(name, arg_type, optional)


# The result type of a step that answers nothing.
NOTHING = type(None)


class ContributionSteps:
    """The activities of ContributionWorkflow (activities/contribution.py implements them)."""

    VERIFY_AND_RESERVE = Step("verify_and_reserve", VerifyRequest, VerifyOutcome)
    CREATE_PAYMENT_ORDER = Step("create_payment_order", ChargeRequest, PaymentOrder)
    QUERY_PAYMENT = Step("query_payment", str, PaymentCheck)
    CLOSE_PAYMENT_ORDER = Step("close_payment_order", str, PaymentCheck)
    RECORD_PAYMENT = Step("record_payment", RecordPaymentRequest, PaymentRecorded)
    SUBMIT_POSTING = Step("submit_posting", PostingRequestMsg, PostingCheck)
    CHECK_POSTING = Step("check_posting", PostingCheckRequest, PostingCheck)
    REQUEST_REFUND = Step("request_refund", RefundOrder, RefundCheck)
    CHECK_REFUND = Step("check_refund", RefundCheckRequest, RefundCheck)
    CHECK_TREASURY = Step.maybe("check_treasury", TreasuryCheckRequest, TreasuryResult)
    ISSUE_CERTIFICATE_ELIGIBILITY = Step("issue_certificate_eligibility", CertifyRequest, NOTHING)
    RECORD_STATUS = Step("record_status", StatusChange, NOTHING)
    NOTIFY_PAYER = Step("notify_payer", PayerNotice, NOTHING)


class ReconciliationSteps:
    """The activities of ReconciliationWorkflow (activities/reconciliation.py implements them)."""

    FETCH_BILL = Step("reconciliation_fetch_bill", date, BillFetched)
    LOAD_OUR_SIDE = Step("reconciliation_load_our_side", OurSideRequest, OurSide)
    SIGNAL_MISSED_CALLBACK = Step(
        "reconciliation_signal_missed_callback", MissedCallback, HealingAction
    )
    REFUND_ORPHAN = Step("reconciliation_refund_orphan", OrphanPayment, HealingAction)
    STORE_REPORT = Step("reconciliation_store_report", StoreReport, NOTHING)


class PurgeCounts(BaseModel):
    """How many expired rows of each kind one purge deleted."""

    sessions: int = 0
    quotes: int = 0
    captchas: int = 0
    idempotency_keys: int = 0
    limit_counters: int = 0


class PurgeSteps:
    """The activity of PurgeWorkflow (activities/purge.py implements it): as of a moment."""

    PURGE_EXPIRED = Step("purge_expired", datetime, PurgeCounts)


class ReminderSteps:
    """The activity of PayerRemindersWorkflow (activities/reminders.py): as of a moment, how
    many reminders were recorded."""

    SEND_REMINDERS = Step("send_payer_reminders", datetime, int)


def steps_of(namespace: type) -> list[Step[object, object]]:
    """Every step a namespace class above declares, for registration checks."""
    return [v for v in vars(namespace).values() if isinstance(v, Step)]
