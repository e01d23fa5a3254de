"""The audit of the books: pure checks that money and months add up (no I/O, no clock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.payments import CHARGED_STATES, PaymentState, RefundState
from domain.vocabulary import (
    PAID_STATUSES,
    TERMINAL_STATUSES,
    ContributionStatus,
)

S = ContributionStatus

# Statuses whose months count as posted to the agency (记账 accepted).
POSTED_STATUSES: frozenset[ContributionStatus] = frozenset({S.POSTED, S.IN_TREASURY, S.COMPLETED})
# Statuses that legitimately keep a charged payment without a refund.
HOLDING_STATUSES: frozenset[ContributionStatus] = PAID_STATUSES | {S.REFUNDING, S.MANUAL_REVIEW}
# At most this many ids are listed per check: the figures carry the rest.
MAX_LISTED = 20


@dataclass(frozen=True)
class Deadlines:
    """How long a contribution or a refund may legitimately stay unfinished.

    A contribution created more than payment_window_s + settle_s ago must be terminal (or in
    MANUAL_REVIEW, listed): the payer had the whole window, and settle_s covers posting, the
    treasury lag and a refund. A refund requested more than refund_s ago must be final.
    """

    payment_window_s: float
    settle_s: float
    refund_s: float


@dataclass(frozen=True)
class RefundFact:
    out_refund_no: str
    status: RefundState
    amount_fen: int
    requested_at: datetime


@dataclass(frozen=True)
class ContributionFact:
    """One contribution with the money that moved for it."""

    id: str
    person_id: str
    insurance: str
    months: tuple[str, ...]
    status: ContributionStatus
    total_fen: int
    created_at: datetime
    charged_fen: int  # our payments in SUCCESS or REFUND
    posted_fen: int  # the treasury receipt of an accepted posting
    refunds: tuple[RefundFact, ...] = ()

    @property
    def refunded_fen(self) -> int:
        return sum(r.amount_fen for r in self.refunds if r.status == RefundState.SUCCESS)


@dataclass(frozen=True)
class PaymentFact:
    """A payment: ours (contribution_id set) or the channel's own record (contribution_id None)."""

    out_trade_no: str
    state: PaymentState
    amount_fen: int
    contribution_id: str | None = None


@dataclass(frozen=True)
class Books:
    contributions: tuple[ContributionFact, ...]
    payments: tuple[PaymentFact, ...]
    # What the channel itself says (simulator DB or bill); None: not available to the audit.
    channel_payments: tuple[PaymentFact, ...] | None = None


@dataclass
class CheckResult:
    name: str
    passed: bool = True
    figures: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)  # not failures, but for an operator to see

    def fail(self, line: str) -> None:
        self.passed = False
        self.failures.append(line)

    def render(self) -> str:
        figures = ", ".join(f"{k}={v}" for k, v in self.figures.items())
        lines = [f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {figures}"]
        for title, items in (("failure", self.failures), ("listed", self.listed)):
            lines += [f"      {title}: {x}" for x in items[:MAX_LISTED]]
            if len(items) > MAX_LISTED:
                lines.append(f"      ... {len(items) - MAX_LISTED} more {title} lines")
        return "\n".join(lines)


def check_terminal_by_deadline(books: Books, now: datetime, deadlines: Deadlines) -> CheckResult:
    result = CheckResult("every contribution past its deadline is terminal")
    limit = timedelta(seconds=deadlines.payment_window_s + deadlines.settle_s)
    counts: Counter[str] = Counter()
    for c in books.contributions:
        if c.status in TERMINAL_STATUSES:
            counts["terminal"] += 1
        elif c.status == S.MANUAL_REVIEW:
            counts["manual_review"] += 1
            result.listed.append(f"{c.id} MANUAL_REVIEW")
        elif now - c.created_at <= limit:
            counts["in_flight_within_deadline"] += 1
        else:
            counts["overdue"] += 1
            result.fail(f"{c.id} still {c.status.value} {now - c.created_at} after creation")
    result.figures = {"contributions": len(books.contributions), **counts}
    return result


def check_money_conserved(books: Books) -> CheckResult:
    """charged = posted + refunded for every settled contribution; review amounts listed."""
    result = CheckResult("charged = posted + refunded (+ manual review)")
    totals: Counter[str] = Counter()
    for c in books.contributions:
        totals["charged_fen"] += c.charged_fen
        totals["posted_fen"] += c.posted_fen
        totals["refunded_fen"] += c.refunded_fen
        rest = c.charged_fen - c.posted_fen - c.refunded_fen
        if c.status == S.MANUAL_REVIEW:
            totals["manual_review_fen"] += rest
            result.listed.append(f"{c.id} MANUAL_REVIEW holds {rest} fen")
            if rest < 0:
                result.fail(f"{c.id} posted+refunded exceed charged by {-rest} fen")
        elif c.status not in TERMINAL_STATUSES:
            totals["in_flight_fen"] += rest
        elif rest != 0:
            result.fail(
                f"{c.id} {c.status.value}: charged {c.charged_fen} != posted {c.posted_fen}"
                f" + refunded {c.refunded_fen} fen"
            )
        elif c.status == S.COMPLETED and c.posted_fen != c.total_fen:
            result.fail(f"{c.id} COMPLETED with {c.posted_fen} of {c.total_fen} fen posted")
    result.figures = dict(totals)
    return result


def check_no_month_posted_twice(books: Books) -> CheckResult:
    result = CheckResult("no month posted twice for a person and insurance")
    seen: Counter[tuple[str, str, str]] = Counter()
    for c in books.contributions:
        if c.status in POSTED_STATUSES or c.posted_fen > 0:
            seen.update((c.person_id, c.insurance, m) for m in c.months)
    twice = [key for key, n in seen.items() if n > 1]
    for _, insurance, month in twice:
        # The person id is an internal key, never personal data; still, the month suffices.
        result.fail(f"{insurance} {month} posted more than once for one person")
    result.figures = {"posted_months": sum(seen.values()), "posted_twice": len(twice)}
    return result


def check_channel_payments_accounted(books: Books) -> CheckResult:
    """Every charged payment belongs to a contribution that keeps it or gave it back."""
    result = CheckResult("no channel payment without a contribution (unless refunded)")
    by_id = {c.id: c for c in books.contributions}
    ours = {p.out_trade_no: p for p in books.payments}
    charged = [p for p in books.payments if p.state in CHARGED_STATES]
    counts: Counter[str] = Counter()
    if books.channel_payments is not None:
        for p in books.channel_payments:
            if p.state not in CHARGED_STATES:
                continue
            counts["channel_charged"] += 1
            mine = ours.get(p.out_trade_no)
            if mine is None:
                result.fail(f"channel order {p.out_trade_no} charged {p.amount_fen} fen, unknown")
            elif mine.amount_fen != p.amount_fen:
                result.fail(f"{p.out_trade_no}: channel {p.amount_fen} != ours {mine.amount_fen}")
            elif mine.state not in CHARGED_STATES:
                # A missed callback never caught up by a query: the books say unpaid.
                result.fail(f"{p.out_trade_no} charged at the channel, {mine.state} here")
    for p in charged:
        counts["charged"] += 1
        c = by_id.get(p.contribution_id or "")
        if c is None:
            result.fail(f"payment {p.out_trade_no} without a contribution")
        elif c.status in HOLDING_STATUSES:
            counts["kept"] += 1
        elif c.refunded_fen >= p.amount_fen:
            counts["refunded"] += 1
        else:
            result.fail(f"{c.id} {c.status.value} keeps {p.amount_fen} fen without a refund")
    result.figures = dict(counts)
    return result


def check_refunds_final(books: Books, now: datetime, deadlines: Deadlines) -> CheckResult:
    result = CheckResult("every refund requested reached a final state or manual review")
    limit = timedelta(seconds=deadlines.refund_s)
    counts: Counter[str] = Counter({"requested": 0})
    for c in books.contributions:
        settled = c.refunded_fen >= c.charged_fen > 0 or c.status == S.REFUNDED
        for r in c.refunds:
            counts["requested"] += 1
            counts[r.status.value.lower()] += 1
            if r.status == RefundState.SUCCESS:
                continue
            if c.status == S.MANUAL_REVIEW:
                result.listed.append(f"{r.out_refund_no} {r.status.value}, in manual review")
            elif r.status == RefundState.PROCESSING:
                if now - r.requested_at > limit:
                    result.fail(f"{r.out_refund_no} PROCESSING since {r.requested_at:%F %T}")
            elif not settled:
                result.fail(f"{r.out_refund_no} {r.status.value} and nobody took it over")
    result.figures = dict(counts)
    return result


def audit(books: Books, now: datetime, deadlines: Deadlines) -> list[CheckResult]:
    return [
        check_terminal_by_deadline(books, now, deadlines),
        check_money_conserved(books),
        check_no_month_posted_twice(books),
        check_channel_payments_accounted(books),
        check_refunds_final(books, now, deadlines),
    ]


def status_counts(contributions: Iterable[ContributionFact]) -> dict[str, int]:
    return dict(sorted(Counter(c.status.value for c in contributions).items()))
