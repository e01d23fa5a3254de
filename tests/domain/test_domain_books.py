"""The audit's checks: clean books pass, each kind of broken book fails the right check."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from domain.books import (
    Books,
    CheckResult,
    ContributionFact,
    Deadlines,
    PaymentFact,
    RefundFact,
    audit,
    check_channel_payments_accounted,
    check_money_conserved,
    check_no_month_posted_twice,
    check_refunds_final,
    check_terminal_by_deadline,
)
from domain.payments import PaymentState, RefundState
from domain.vocabulary import ContributionStatus

S = ContributionStatus
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=30)
DEADLINES = Deadlines(payment_window_s=900, settle_s=3600, refund_s=3600)
FEN = 87267


def completed(cid: str = "c1", person: str = "p1", month: str = "2026-10") -> ContributionFact:
    return ContributionFact(
        id=cid,
        person_id=person,
        insurance="pension",
        months=(month,),
        status=S.COMPLETED,
        total_fen=FEN,
        created_at=LONG_AGO,
        charged_fen=FEN,
        posted_fen=FEN,
    )


def refunded(cid: str = "c2", status: RefundState = RefundState.SUCCESS) -> ContributionFact:
    refund = RefundFact(f"RF{cid}01", status, FEN, LONG_AGO)
    return dataclasses.replace(
        completed(cid, "p2"),
        status=S.REFUNDED if status == RefundState.SUCCESS else S.MANUAL_REVIEW,
        posted_fen=0,
        refunds=(refund,),
    )


def paid(c: ContributionFact, state: PaymentState = PaymentState.PAID) -> PaymentFact:
    return PaymentFact(f"SB{c.id}", state, c.charged_fen, c.id)


def books(*cs: ContributionFact, channel: tuple[PaymentFact, ...] | None = None) -> Books:
    return Books(tuple(cs), tuple(paid(c) for c in cs if c.charged_fen), channel)


def failed(result: CheckResult) -> bool:
    return not result.passed and bool(result.failures)


def test_clean_books_pass_every_check_with_figures() -> None:
    expired = dataclasses.replace(completed("c3", "p3"), status=S.EXPIRED, charged_fen=0)
    expired = dataclasses.replace(expired, posted_fen=0)
    clean = books(completed(), refunded(), expired)
    clean = dataclasses.replace(clean, channel_payments=clean.payments)
    results = audit(clean, NOW, DEADLINES)
    assert [r.passed for r in results] == [True] * 5
    money = results[1].figures
    assert money["charged_fen"] == 2 * FEN
    assert money["posted_fen"] == FEN and money["refunded_fen"] == FEN


def test_a_contribution_stuck_past_its_deadline_fails() -> None:
    stuck = dataclasses.replace(completed(), status=S.POSTING, posted_fen=0)
    result = check_terminal_by_deadline(books(stuck), NOW, DEADLINES)
    assert failed(result) and result.figures["overdue"] == 1


def test_a_young_contribution_in_flight_passes_and_is_counted() -> None:
    young = dataclasses.replace(completed(), status=S.AWAITING_PAYMENT, created_at=NOW)
    result = check_terminal_by_deadline(books(young), NOW, DEADLINES)
    assert result.passed and result.figures["in_flight_within_deadline"] == 1


def test_manual_review_passes_but_is_listed_with_its_amount() -> None:
    review = refunded(status=RefundState.ABNORMAL)
    terminal = check_terminal_by_deadline(books(review), NOW, DEADLINES)
    money = check_money_conserved(books(review))
    assert terminal.passed and terminal.listed
    assert money.passed and money.figures["manual_review_fen"] == FEN
    assert any(f"{FEN} fen" in line for line in money.listed)


def test_money_charged_but_neither_posted_nor_refunded_fails() -> None:
    lost = dataclasses.replace(completed(), posted_fen=0)
    assert failed(check_money_conserved(books(lost)))


def test_a_refund_on_top_of_a_posting_fails_conservation() -> None:
    both = dataclasses.replace(
        completed(), refunds=(RefundFact("RFc101", RefundState.SUCCESS, FEN, LONG_AGO),)
    )
    assert failed(check_money_conserved(books(both)))


def test_a_month_posted_twice_for_one_person_fails() -> None:
    twice = books(completed("c1", "p1", "2026-10"), completed("c2", "p1", "2026-10"))
    result = check_no_month_posted_twice(twice)
    assert failed(result) and result.figures["posted_twice"] == 1
    other_person = books(completed("c1", "p1", "2026-10"), completed("c2", "p2", "2026-10"))
    assert check_no_month_posted_twice(other_person).passed


def test_an_expired_contribution_keeping_money_without_refund_fails() -> None:
    late_payment = dataclasses.replace(completed(), status=S.EXPIRED, posted_fen=0)
    result = check_channel_payments_accounted(books(late_payment))
    assert failed(result)


def test_a_channel_charge_unknown_to_the_books_fails() -> None:
    orphan = PaymentFact("SBorphan", PaymentState.PAID, FEN)
    result = check_channel_payments_accounted(books(completed(), channel=(orphan,)))
    assert failed(result) and "SBorphan" in result.failures[0]


def test_a_channel_charge_our_books_still_call_unpaid_fails() -> None:
    c = completed()
    ours = Books((c,), (PaymentFact("SBc1", PaymentState.PENDING, FEN, "c1"),), None)
    theirs = (PaymentFact("SBc1", PaymentState.PAID, FEN),)
    assert failed(
        check_channel_payments_accounted(dataclasses.replace(ours, channel_payments=theirs))
    )


def test_a_refund_processing_past_its_deadline_fails() -> None:
    pending = refunded(status=RefundState.PROCESSING)
    pending = dataclasses.replace(pending, status=S.REFUNDING)
    assert failed(check_refunds_final(books(pending), NOW, DEADLINES))
    fresh = dataclasses.replace(
        pending, refunds=(RefundFact("RFc201", RefundState.PROCESSING, FEN, NOW),)
    )
    assert check_refunds_final(books(fresh), NOW, DEADLINES).passed


def test_a_closed_refund_nobody_took_over_fails_but_in_review_is_listed() -> None:
    review = refunded(status=RefundState.CLOSED)
    listed = check_refunds_final(books(review), NOW, DEADLINES)
    assert listed.passed and listed.listed
    dropped = dataclasses.replace(review, status=S.EXPIRED)
    assert failed(check_refunds_final(books(dropped), NOW, DEADLINES))


def test_the_report_says_pass_or_fail_with_figures() -> None:
    lost = dataclasses.replace(completed(), posted_fen=0)
    text = check_money_conserved(books(lost)).render()
    assert text.startswith("FAIL") and f"charged_fen={FEN}" in text
