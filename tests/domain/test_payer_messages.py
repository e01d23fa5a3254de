"""The wording and keys of messages to payers, and which days are reminder days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.payer_messages import (
    CONTRIBUTION_KINDS,
    ContributionFacts,
    MessageKind,
    contribution_draft,
    contribution_message_key,
    reminder_draft,
    reminder_key,
    reminder_round,
)
from domain.vocabulary import Insurance

FACTS = ContributionFacts(
    contribution_id="c1",
    insurance=Insurance.PENSION,
    months=("2026-01", "2026-02", "2026-03"),
    total_fen=261801,
    expected_treasury_date=date(2026, 3, 5),
)


@pytest.mark.parametrize("kind", sorted(CONTRIBUTION_KINDS))
def test_every_contribution_message_names_its_months_amount_and_a_payer_page(
    kind: MessageKind,
) -> None:
    draft = contribution_draft(kind, FACTS)
    assert draft.link.startswith("/h5/")
    assert "2026-01至2026-03（共3个月）" in draft.body
    assert "2618.01元" in draft.body
    assert all("：" not in label for label, _ in draft.lines)


def test_the_payment_message_gives_the_expected_treasury_date() -> None:
    draft = contribution_draft(MessageKind.PAYMENT_SUCCEEDED, FACTS)
    assert ("预计入库日期", "2026-03-05") in draft.lines
    assert draft.link == "/h5/pay/result/c1"


def test_a_refund_message_gives_what_went_back() -> None:
    facts = ContributionFacts(**{**FACTS.__dict__, "refund_fen": 87267})
    draft = contribution_draft(MessageKind.REFUND_ARRIVED, facts)
    assert ("退款金额", "872.67元") in draft.lines


def test_a_reminder_is_not_a_contribution_message() -> None:
    with pytest.raises(ValueError, match="reminder"):
        contribution_draft(MessageKind.REMINDER, FACTS)


def test_keys_differ_by_kind_and_by_round() -> None:
    keys = {contribution_message_key("c1", k) for k in CONTRIBUTION_KINDS}
    assert len(keys) == len(CONTRIBUTION_KINDS)
    assert reminder_key("p", 2026, 7) != reminder_key("p", 2026, 1)
    assert len(reminder_key("per_" + "0" * 24, 2026, 365)) <= 96


@given(st.integers(min_value=-400, max_value=400))
def test_only_the_listed_days_before_the_cut_off_are_reminder_days(offset: int) -> None:
    cutoff = date(2026, 12, 25)
    today = cutoff - timedelta(days=offset)
    due = reminder_round(today, cutoff, (30, 7, 1))
    assert due == (offset if offset in (30, 7, 1) else None)


def test_a_reminder_names_the_open_months_and_the_cut_off() -> None:
    draft = reminder_draft(2026, ["2026-11", "2026-12"], date(2026, 12, 25))
    assert ("缴费截止日期", "2026-12-25") in draft.lines
    assert "2026-11至2026-12（共2个月）" in draft.body
    assert draft.link == "/h5/pay/confirm?for=me"
