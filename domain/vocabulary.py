"""The shared vocabulary: enumerations and small value types every layer speaks."""

from __future__ import annotations

from enum import StrEnum


class IdType(StrEnum):
    """证件类型 — the identity documents a payer may sign in with."""

    RESIDENT_ID = "resident_id"  # 居民身份证
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"  # 港澳台居民居住证
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"  # 外国人永久居留身份证
    PASSPORT = "passport"  # 护照


ID_TYPE_LABELS: dict[IdType, str] = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.HMT_RESIDENCE_PERMIT: "港澳台居民居住证",
    IdType.FOREIGN_PERMANENT_RESIDENCE: "外国人永久居留身份证",
    IdType.PASSPORT: "护照",
}


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Insurance(StrEnum):
    """缴费险种."""

    PENSION = "pension"  # 企业职工基本养老保险 (flexible employment)
    # 城乡居民基本医疗保险: one yearly amount per person; the coverage year's YYYY-01 stands for it.
    RESIDENT_MEDICAL = "resident_medical"


INSURANCE_LABELS: dict[Insurance, str] = {
    Insurance.PENSION: "企业职工基本养老保险",
    Insurance.RESIDENT_MEDICAL: "城乡居民基本医疗保险",
}


class Channel(StrEnum):
    """缴款方式 — how the payer pays inside the payment channel."""

    WECHAT_BALANCE = "wechat_balance"  # 零钱
    BANK_CARD = "bank_card"  # 银行卡


class ContributionStatus(StrEnum):
    """The states of one contribution workflow (also the ContributionStatus search attribute)."""

    VERIFYING = "VERIFYING"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PAID = "PAID"
    POSTING = "POSTING"
    POSTED = "POSTED"
    IN_TREASURY = "IN_TREASURY"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    REFUNDING = "REFUNDING"
    REFUNDED = "REFUNDED"
    MANUAL_REVIEW = "MANUAL_REVIEW"


TERMINAL_STATUSES: frozenset[ContributionStatus] = frozenset(
    {
        ContributionStatus.COMPLETED,
        ContributionStatus.REJECTED,
        ContributionStatus.EXPIRED,
        ContributionStatus.CANCELLED,
        ContributionStatus.REFUNDED,
    }
)

# Statuses in which the months are held by the contribution (in flight or paid for good).
MONTH_HOLDING_STATUSES: frozenset[ContributionStatus] = frozenset(
    set(ContributionStatus)
    - {
        ContributionStatus.REJECTED,
        ContributionStatus.EXPIRED,
        ContributionStatus.CANCELLED,
        ContributionStatus.REFUNDED,
    }
)

# Statuses after which the money is with us or beyond: the month counts as paid.
PAID_STATUSES: frozenset[ContributionStatus] = frozenset(
    {
        ContributionStatus.PAID,
        ContributionStatus.POSTING,
        ContributionStatus.POSTED,
        ContributionStatus.IN_TREASURY,
        ContributionStatus.COMPLETED,
    }
)

STATUS_LABELS: dict[ContributionStatus, str] = {
    ContributionStatus.VERIFYING: "核验中",
    ContributionStatus.AWAITING_PAYMENT: "待支付",
    ContributionStatus.PAID: "已支付",
    ContributionStatus.POSTING: "记账中",
    ContributionStatus.POSTED: "已记账",
    ContributionStatus.IN_TREASURY: "已入库",
    ContributionStatus.COMPLETED: "已完成（可开具完税证明）",
    ContributionStatus.REJECTED: "未通过核验",
    ContributionStatus.EXPIRED: "支付超时已关闭",
    ContributionStatus.CANCELLED: "已取消",
    ContributionStatus.REFUNDING: "退款中",
    ContributionStatus.REFUNDED: "已退款",
    ContributionStatus.MANUAL_REVIEW: "人工复核中",
}


class PostingState(StrEnum):
    """The social-insurance agency's answer to a posting (记账) submission."""

    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class RejectReason(StrEnum):
    """Why a contribution was refused before any money moved (also API error codes)."""

    NOT_REGISTERED = "NOT_REGISTERED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    MONTH_NOT_OPEN = "MONTH_NOT_OPEN"
    MONTH_ALREADY_PAID = "MONTH_ALREADY_PAID"
    MONTH_IN_FLIGHT = "MONTH_IN_FLIGHT"
    # The year's cut-off (or the coverage year's collection period) is over: offline only.
    YEAR_CLOSED = "YEAR_CLOSED"
    GRADE_UNKNOWN = "GRADE_UNKNOWN"
    QUOTE_EXPIRED = "QUOTE_EXPIRED"
    QUOTE_CHANGED = "QUOTE_CHANGED"
    # Also raised by domain.eligibility.check_months / domain.assessment.assess (DomainError codes),
    # so RejectReason(err.code) holds for every code those can raise.
    INVALID_MONTH = "INVALID_MONTH"
    POLICY_MISSING = "POLICY_MISSING"
    PAYMENT_CHANNEL_REFUSED = "PAYMENT_CHANNEL_REFUSED"
