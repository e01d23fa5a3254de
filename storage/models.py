"""SQLAlchemy 2 declarative models: every table shebao keeps (money in fen, times aware UTC)."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from domain.payments import PaymentState, RefundState
from domain.vocabulary import (
    Channel,
    ContributionStatus,
    IdType,
    Insurance,
    PostingState,
    RejectReason,
    Sex,
)
from storage.coltypes import StrEnumType, UtcDateTime

# The largest value of an INTEGER column (PostgreSQL's 4-byte integer): ids the API takes from
# a URL are bounded by it, so an absurd number is refused before it reaches the database.
MAX_INTEGER_ID = 2**31 - 1

# Stable constraint names, so migrations can refer to (and later drop) them on every backend.
NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

REGISTRATION_ACTIVE: Final = "active"
REGISTRATION_SUSPENDED: Final = "suspended"


def new_person_id() -> str:
    return "per_" + secrets.token_hex(12)


def new_quote_id() -> str:
    return "q_" + secrets.token_hex(12)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _insurance() -> Mapped[Insurance]:
    return mapped_column(StrEnumType(Insurance, 16))


def _month() -> Mapped[str]:
    return mapped_column(String(7))


def _fen() -> Mapped[int]:
    return mapped_column(BigInteger)


def _person_fk(*, nullable: bool = False, index: bool = False) -> Mapped[Any]:
    return mapped_column(String(32), ForeignKey("persons.id"), nullable=nullable, index=index)


def _contribution_fk(*, primary_key: bool = False, index: bool = False) -> Mapped[str]:
    return mapped_column(
        String(40), ForeignKey("contributions.id"), primary_key=primary_key, index=index
    )


class Person(Base):
    """An insured person (参保人). The name is stored as the caller normalised it."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("id_type", "id_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_person_id)
    id_type: Mapped[IdType] = mapped_column(StrEnumType(IdType, 32))
    id_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[Sex | None] = mapped_column(StrEnumType(Sex, 8))
    payer_ref: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    city: Mapped[str | None] = mapped_column(String(64))
    # A woman's pre-reform retirement age (50 or 55) as registered; None: the default (55).
    women_original_age: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:
        # Never the id number or the name: reprs end up in logs and tracebacks.
        return f"Person(id={self.id!r})"


class Registration(Base):
    """参保登记: a person's registration for one insurance type."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("person_id", "insurance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = _person_fk()
    insurance: Mapped[Insurance] = _insurance()
    start_month: Mapped[str] = _month()
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Policy(Base):
    """One year's policy table for one insurance type, as a JSON document."""

    __tablename__ = "policies"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    insurance: Mapped[Insurance] = mapped_column(StrEnumType(Insurance, 16), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    provisional: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class CalendarTable(Base):
    """The official table of one year (the State Council's notice), as an operator loaded it."""

    __tablename__ = "calendar_tables"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON)  # ISO dates off
    workdays: Mapped[list[str]] = mapped_column(JSON)  # ISO weekend dates worked (调休)
    source: Mapped[str] = mapped_column(String(500))  # the notice's name and date
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class Quote(Base):
    """应缴费额确认: the amounts shown to the payer, which the contribution must match."""

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=new_quote_id)
    person_id: Mapped[str] = _person_fk()
    requested_by_person_id: Mapped[str | None] = _person_fk(nullable=True)
    insurance: Mapped[Insurance] = _insurance()
    months: Mapped[list[str]] = mapped_column(JSON)
    grade: Mapped[int] = mapped_column(Integer)
    back_payment: Mapped[bool] = mapped_column(Boolean)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_fen: Mapped[int] = _fen()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Contribution(Base):
    """One contribution (one workflow): the months paid together in one payment."""

    __tablename__ = "contributions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_id: Mapped[str] = _person_fk(index=True)
    payer_ref: Mapped[str] = mapped_column(String(40), index=True)
    insurance: Mapped[Insurance] = _insurance()
    months: Mapped[list[str]] = mapped_column(JSON)
    grade: Mapped[int] = mapped_column(Integer)
    back_payment: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 32))
    quote_id: Mapped[str | None] = mapped_column(String(40))
    total_fen: Mapped[int] = _fen()
    status: Mapped[ContributionStatus] = mapped_column(
        StrEnumType(ContributionStatus, 24), index=True
    )
    reject_reason: Mapped[RejectReason | None] = mapped_column(StrEnumType(RejectReason, 32))
    # The live contribution holding a month this one asked for (REJECTED, MONTH_IN_FLIGHT).
    holder_contribution_id: Mapped[str | None] = mapped_column(String(40))
    # Why an operator must act (MANUAL_REVIEW), in the words the payer is shown.
    review_reason: Mapped[str | None] = mapped_column(String(200))
    out_trade_no: Mapped[str | None] = mapped_column(String(32))
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    expected_treasury_date: Mapped[date | None] = mapped_column(Date)
    # The expected date leans on a provisional calendar year: the pages say 预计.
    expected_treasury_provisional: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    requested_by_person_id: Mapped[str | None] = _person_fk(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContributionMonth(Base):
    """One month of a contribution; its id is the record id the records pages show."""

    __tablename__ = "contribution_months"
    __table_args__ = (
        UniqueConstraint("contribution_id", "month"),
        # The records query: one person's months in a range.
        Index(None, "person_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contribution_id: Mapped[str] = _contribution_fk()
    person_id: Mapped[str] = _person_fk()
    insurance: Mapped[Insurance] = _insurance()
    month: Mapped[str] = _month()
    base_fen: Mapped[int] = _fen()
    amount_fen: Mapped[int] = _fen()
    interest_fen: Mapped[int] = _fen()


class MonthReservation(Base):
    """The guard that a month is in at most one live contribution (the primary key enforces it)."""

    __tablename__ = "month_reservations"

    person_id: Mapped[str] = mapped_column(String(32), ForeignKey("persons.id"), primary_key=True)
    insurance: Mapped[Insurance] = mapped_column(StrEnumType(Insurance, 16), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    contribution_id: Mapped[str] = _contribution_fk(index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# WeChat Pay's h5_url is at most 512 characters.
CASHIER_URL_MAX: Final = 512


class Payment(Base):
    """A payment order at the channel, keyed by our out_trade_no."""

    __tablename__ = "payments"

    out_trade_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    contribution_id: Mapped[str] = _contribution_fk(index=True)
    channel: Mapped[Channel] = mapped_column(StrEnumType(Channel, 32))
    amount_fen: Mapped[int] = _fen()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The provider the contribution used, by its registered name, and which of its products.
    provider: Mapped[str] = mapped_column(String(32), server_default="wechatpay")
    product: Mapped[str] = mapped_column(String(16), server_default="h5")
    state: Mapped[PaymentState] = mapped_column(StrEnumType(PaymentState, 16))
    # The provider's own word for the state (WeChat: NOTPAY, SUCCESS, ...): payers see it.
    provider_state: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    bank_type: Mapped[str | None] = mapped_column(String(32))
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Where the payer pays (the channel's H5 page), once the channel has created the order: the
    # status page of an unpaid contribution is read from here, not from its workflow.
    cashier_url: Mapped[str | None] = mapped_column(String(CASHIER_URL_MAX))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PaymentEvent(Base):
    """A callback from the channel, kept once per event id (callbacks are redelivered)."""

    __tablename__ = "payment_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    out_trade_no: Mapped[str] = mapped_column(String(32), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class Refund(Base):
    """A refund through the original channel, keyed by our out_refund_no."""

    __tablename__ = "refunds"

    out_refund_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    contribution_id: Mapped[str] = _contribution_fk(index=True)
    out_trade_no: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = _fen()
    status: Mapped[RefundState] = mapped_column(StrEnumType(RefundState, 16))
    refund_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Posting(Base):
    """记账: the submission of a contribution to the social-insurance agency."""

    __tablename__ = "postings"

    contribution_id: Mapped[str] = _contribution_fk(primary_key=True)
    posting_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[PostingState] = mapped_column(StrEnumType(PostingState, 16))
    reason: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TreasuryReceipt(Base):
    """入库: the treasury's receipt for a contribution's money."""

    __tablename__ = "treasury_receipts"

    contribution_id: Mapped[str] = _contribution_fk(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = _fen()
    treasury_date: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CertifiableMonth(Base):
    """A month whose money is in the treasury: it may appear on a certificate."""

    __tablename__ = "certifiable_months"

    person_id: Mapped[str] = mapped_column(String(32), ForeignKey("persons.id"), primary_key=True)
    insurance: Mapped[Insurance] = mapped_column(StrEnumType(Insurance, 16), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    contribution_id: Mapped[str] = _contribution_fk(index=True)
    amount_fen: Mapped[int] = _fen()
    treasury_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StatusHistory(Base):
    """The status timeline of a contribution, as the payer sees it."""

    __tablename__ = "status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contribution_id: Mapped[str] = _contribution_fk(index=True)
    status: Mapped[ContributionStatus] = mapped_column(StrEnumType(ContributionStatus, 24))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    detail: Mapped[str | None] = mapped_column(String(200))


class AuditEntry(Base):
    """Who changed what outside the workflows (operators, policy loads)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdempotencyRecord(Base):
    """An Idempotency-Key the API has seen, with the response it gave."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    contribution_id: Mapped[str | None] = mapped_column(String(40))
    # none_as_null: a missing response is SQL NULL, not the JSON value null.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SessionRow(Base):
    """A signed-in payer's session; only the token's hash is stored."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = _person_fk(index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WeChatOpenId(Base):
    """A WeChat openid (网页授权, snsapi_base) bound to the person who signed in with it.

    The openid is personal data: it stays in this row and the JSAPI order, never in logs.
    One openid names one person; a person may have several (phones, 公众号 accounts).
    """

    __tablename__ = "wechat_openids"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    person_id: Mapped[str] = _person_fk(index=True)
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaptchaRow(Base):
    """A captcha of the certificate query: only the answer's hash, single use, expiring."""

    __tablename__ = "captchas"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    # A keyed hash of the client IP, for the per-client rate limit (never the IP itself).
    client_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Certificate(Base):
    """完税证明: what was certified, for whom, and the PDF as issued (never re-rendered)."""

    __tablename__ = "certificates"

    certificate_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = _person_fk(index=True)
    insurance: Mapped[Insurance] = _insurance()
    from_month: Mapped[str] = _month()
    to_month: Mapped[str] = _month()
    verify_code_hash: Mapped[str] = mapped_column(String(64))
    # [{month, insurance, amount_fen, treasury_date}] as certified.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_fen: Mapped[int] = _fen()
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class ReconciliationReportRow(Base):
    """对账: the latest reconciliation of one bill date, its counts and the full report."""

    __tablename__ = "reconciliation_reports"

    bill_date: Mapped[date] = mapped_column(Date, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(128))
    clean: Mapped[bool] = mapped_column(Boolean)
    bill_payments: Mapped[int] = mapped_column(Integer)
    bill_payment_fen: Mapped[int] = _fen()
    missed_callbacks: Mapped[int] = mapped_column(Integer)
    orphan_payments: Mapped[int] = mapped_column(Integer)
    amount_mismatches: Mapped[int] = mapped_column(Integer)
    stuck_refunds: Mapped[int] = mapped_column(Integer)
    missing_from_bill: Mapped[int] = mapped_column(Integer)
    # domain.reconciliation.ReconciliationReport as JSON: ids, states and fen, no personal data.
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReconciliationReview(Base):
    """对账待复核: a paid order storage does not hold, waiting for an operator's decision.

    Reconciliation never refunds such an order itself (it may be another system's on a shared
    merchant account, or ours but lost in a restore); the operator refunds or dismisses it.
    """

    __tablename__ = "reconciliation_reviews"

    out_trade_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amount_fen: Mapped[int] = _fen()
    trade_time: Mapped[datetime] = mapped_column(UtcDateTime())
    bill_date: Mapped[date] = mapped_column(Date)
    # domain.reconciliation.UnknownReason: FOREIGN_ORDER | OUR_ORDER_NOT_STORED
    reason: Mapped[str] = mapped_column(String(32))
    # OPEN, then REFUNDED or DISMISSED by an operator.
    status: Mapped[str] = mapped_column(String(16), index=True)
    out_refund_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    refund_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class LimitCounter(Base):
    """One fixed window of a limit (failures of an identity, requests of an address, …).

    The key is a keyed hash (never an ID number or an address in clear). Every API process
    counts in this one table, so N processes still give a caller the limit once.
    """

    __tablename__ = "limit_counters"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(Integer)
    # When the window ends: the daily purge deletes rows past it.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class PayerMessage(Base):
    """A message to a payer (消息): kept for the pages, and sent to WeChat when an openid is known.

    `key` makes each message once-only (a contribution and kind, or a person, year and reminder
    round): a retried step finds its message already there and does not send it twice.
    """

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_person_id_created_at", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)
    person_id: Mapped[str] = _person_fk()
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(64))
    # `label：value` lines; never an ID number or a full name.
    body: Mapped[str] = mapped_column(String(1000))
    link: Mapped[str] = mapped_column(String(200))
    contribution_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # PENDING, SENT, NO_OPENID, FAILED (refused for good) or UNKNOWN (a send that timed out).
    wechat_state: Mapped[str] = mapped_column(String(16))
    wechat_msgid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    wechat_error: Mapped[str | None] = mapped_column(String(32), nullable=True)
    wechat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class MessageSettings(Base):
    """A payer's choice about reminders (opt-in: no row means no reminders)."""

    __tablename__ = "message_settings"

    person_id: Mapped[str] = mapped_column(String(32), ForeignKey("persons.id"), primary_key=True)
    reminders: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
