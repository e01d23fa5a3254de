"""A refund step's answers the workflow must bound (REFUND_UNSETTLED) apart from transient ones."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contribution import ContributionActivities
from adapters.errors import (
    AdapterError,
    ConflictError,
    OutcomeUnknownError,
    TransientError,
    error_for_code,
)
from workflows.contract import REFUND_UNSETTLED, RefundCheckRequest


class _Channel:
    """A payment channel whose refund query fails with `error`."""

    def __init__(self, error: AdapterError) -> None:
        self.error = error

    async def query_refund(self, out_refund_no: str) -> Any:
        raise self.error


def _activities(error: AdapterError) -> ContributionActivities:
    # The query fails before storage is written: no database is needed, only the provider.
    activities = ContributionActivities(
        cast(Any, None), cast(Any, None), cast(Any, None), cast(Any, None), base_url=""
    )

    async def provider_of_refund(out_refund_no: str) -> Any:
        return SimpleNamespace(channel=_Channel(error))

    activities._provider_of_refund = provider_of_refund  # type: ignore[method-assign]
    return activities


REQUEST = RefundCheckRequest(contribution_id="c1", out_refund_no="RFc101", at=datetime.now(UTC))


@pytest.mark.parametrize(
    "error",
    [
        ConflictError("TRADE_ERROR", "交易错误"),
        OutcomeUnknownError("TIMEOUT_AFTER_COMMIT"),
        error_for_code("SOMETHING_NEW", "未知"),  # a code the provider never documented
    ],
    ids=["conflict", "outcome_unknown", "unknown_code"],
)
async def test_conflicts_and_unknown_codes_end_the_attempt_for_the_workflow_to_count(
    error: AdapterError,
) -> None:
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(_activities(error).check_refund, REQUEST)
    assert raised.value.type == REFUND_UNSETTLED and raised.value.non_retryable
    assert list(raised.value.details) == [error.code]


async def test_a_transient_error_is_left_to_the_steps_retry_policy() -> None:
    error = TransientError("SYSTEM_ERROR", "系统错误")
    with pytest.raises(TransientError):
        await ActivityEnvironment().run(_activities(error).check_refund, REQUEST)
