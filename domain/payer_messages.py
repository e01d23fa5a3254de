"""The messages a payer is sent (消息): their kinds, keys and wording — no ID number, ever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.money import fen_to_yuan_str
from domain.vocabulary import INSURANCE_LABELS, Insurance


class MessageKind(StrEnum):
    """What a message is about; with its subject it makes the message's one-time key."""

    PAYMENT_SUCCEEDED = "payment_succeeded"
    REFUND_STARTED = "refund_started"
    REFUND_ARRIVED = "refund_arrived"
    CERTIFICATE_AVAILABLE = "certificate_available"
    REMINDER = "reminder"


# The kinds a contribution's workflow sends, at most once each per contribution.
CONTRIBUTION_KINDS = frozenset(MessageKind) - {MessageKind.REMINDER}


def contribution_message_key(contribution_id: str, kind: MessageKind) -> str:
    """One message per contribution and kind: a retried step finds it already there."""
    return f"c:{contribution_id}:{kind.value}"


def reminder_key(person_id: str, year: int, round_days: int) -> str:
    """One reminder per person, year and round (the round: days before the cut-off)."""
    return f"r:{person_id}:{year}:{round_days}"


@dataclass(frozen=True)
class Draft:
    """A message as the payer reads it: a title, lines of `label: value`, and a page link."""

    kind: MessageKind
    title: str
    lines: tuple[tuple[str, str], ...]
    # A path of the payer pages (/h5/...): the message is about what that page shows.
    link: str

    @property
    def body(self) -> str:
        return "\n".join(f"{label}：{value}" for label, value in self.lines)


@dataclass(frozen=True)
class ContributionFacts:
    """What a contribution's messages say (read from storage; amounts in fen)."""

    contribution_id: str
    insurance: Insurance
    months: tuple[str, ...]
    total_fen: int
    expected_treasury_date: date | None = None
    refund_fen: int | None = None


def _months(months: tuple[str, ...]) -> str:
    if not months:
        return ""
    return months[0] if len(months) == 1 else f"{months[0]}至{months[-1]}（共{len(months)}个月）"


def _yuan(fen: int) -> str:
    return f"{fen_to_yuan_str(fen)}元"


# The kinds after the payment: title, amount label, the note, and whether the link is the
# certificates page (else the contribution's result page).
_AFTER_PAYMENT: dict[MessageKind, tuple[str, str, str, bool]] = {
    MessageKind.REFUND_STARTED: (
        "记账未成功，已发起退款",
        "退款金额",
        "社保经办机构记账未成功，款项将按原支付渠道退回",
        False,
    ),
    MessageKind.REFUND_ARRIVED: (
        "退款已到账",
        "退款金额",
        "款项已按原支付渠道退回，可重新缴费",
        False,
    ),
    MessageKind.CERTIFICATE_AVAILABLE: (
        "完税证明可开具",
        "金额",
        "款项已入库，可在“完税证明查询”中开具",
        True,
    ),
}


def contribution_draft(kind: MessageKind, facts: ContributionFacts) -> Draft:
    """The wording of a contribution's message of this kind."""
    label = INSURANCE_LABELS.get(facts.insurance, facts.insurance.value)
    result = f"/h5/pay/result/{facts.contribution_id}"
    if kind == MessageKind.PAYMENT_SUCCEEDED:
        expected = facts.expected_treasury_date
        return Draft(
            kind,
            "缴费成功",
            (
                ("险种", label),
                ("所属期", _months(facts.months)),
                ("金额", _yuan(facts.total_fen)),
                ("预计入库日期", expected.isoformat() if expected else "以入库结果为准"),
            ),
            result,
        )
    if kind not in _AFTER_PAYMENT:
        raise ValueError(f"{kind.value} is not a contribution message")
    title, amount_label, note, to_certificates = _AFTER_PAYMENT[kind]
    amount = facts.total_fen
    if kind != MessageKind.CERTIFICATE_AVAILABLE and facts.refund_fen is not None:
        amount = facts.refund_fen  # what went back, as the refund recorded it
    return Draft(
        kind,
        title,
        (
            ("险种", label),
            ("所属期", _months(facts.months)),
            (amount_label, _yuan(amount)),
            ("说明", note),
        ),
        "/h5/certificates" if to_certificates else result,
    )


def reminder_draft(year: int, unpaid_months: list[str], cutoff: date) -> Draft:
    """A reminder: this year's months still open, and the last day to pay them."""
    return Draft(
        MessageKind.REMINDER,
        "缴费提醒",
        (
            ("险种", INSURANCE_LABELS[Insurance.PENSION]),
            ("未缴月份", _months(tuple(unpaid_months))),
            ("缴费截止日期", cutoff.isoformat()),
            ("说明", f"{year}年度缴费截止后将不能按正常缴费办理，请及时缴纳"),
        ),
        "/h5/pay/confirm?for=me",
    )


def reminder_round(today: date, cutoff: date, days_before: tuple[int, ...]) -> int | None:
    """The round due today (days before the cut-off), or None when today is no reminder day."""
    left = (cutoff - today).days
    return left if left in days_before else None
