"""What operators read in Temporal UI while a workflow waits: its timers' summaries and details.

Every text here is built from statuses, step names, counts and times only — the parameters
admit nothing else — so none can carry an ID number, a name or an openid. They are ClearText:
readable without the codec key. Times are workflow time, shown in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.localtime import shanghai_text
from domain.vocabulary import ContributionStatus
from workflows.cleartext import ClearText


def awaiting_payment(expires_at: datetime, next_query_at: datetime) -> ClearText:
    """The wait for the payment callback, which ends in a query to the channel at the latest."""
    return ClearText(
        f"awaiting payment until {shanghai_text(expires_at)}, "
        f"next query at {shanghai_text(next_query_at)}"
    )


def posting_check(next_at: datetime) -> ClearText:
    return ClearText(f"posting check, next at {shanghai_text(next_at)}")


def refund_check(next_at: datetime) -> ClearText:
    """The wait for the refund callback, which ends in a query to the channel at the latest."""
    return ClearText(f"refund check, next at {shanghai_text(next_at)} (sooner on a callback)")


def refund_retry(step: str, attempt: int, attempts: int, next_at: datetime) -> ClearText:
    """The backoff after the channel answered a refund step with a conflict or unknown code."""
    return ClearText(
        f"{step} unsettled at the channel, try {attempt} of {attempts} at {shanghai_text(next_at)}"
    )


def treasury_check(next_at: datetime, expected: date, *, provisional: bool) -> ClearText:
    """The treasury (入库) poll, with the date the receipt is expected on."""
    guess = " (provisional calendar)" if provisional else ""
    return ClearText(
        f"treasury check, next at {shanghai_text(next_at)}; "
        f"receipt expected {expected.isoformat()}{guess}"
    )


def manual_review(since: datetime) -> ClearText:
    """An untimed wait (no timer to label): shown in the workflow's current details only."""
    return ClearText(
        f"manual review: waiting for an operator's decision since {shanghai_text(since)}"
    )


def details(status: ContributionStatus, waiting: str | None = None) -> ClearText:
    """The current details of a contribution: its status, and what it waits for, if anything."""
    text = f"status: {status.value}"
    return ClearText(f"{text}\n\n{waiting}" if waiting else text)
