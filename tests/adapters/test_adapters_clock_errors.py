"""The adapter clock and the error classification."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from adapters.clock import activity_clock, system_clock
from adapters.errors import (
    NON_RETRYABLE_ERRORS,
    AuthError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
    UnknownCodeError,
    error_for_code,
)


def test_activity_clock_falls_back_to_system_time_outside_an_activity() -> None:
    before = datetime.now(UTC)
    now = activity_clock()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= system_clock()


async def test_activity_clock_is_the_attempts_scheduled_time_inside_an_activity() -> None:
    scheduled = datetime(2026, 10, 10, 1, 0, tzinfo=UTC)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=scheduled)

    @activity.defn
    async def read_clock() -> datetime:
        return activity_clock()

    assert await env.run(read_clock) == scheduled


def test_errors_are_classified_by_provider_code() -> None:
    expected = {
        "SYSTEM_ERROR": TransientError,
        "FREQUENCY_LIMITED": TransientError,
        "TIMEOUT_AFTER_COMMIT": OutcomeUnknownError,
        "ORDERPAID": ConflictError,
        "ORDER_CLOSED": ConflictError,
        "PARAM_ERROR": InvalidRequestError,
        "INVALID_REQUEST": InvalidRequestError,
        "SIGN_ERROR": AuthError,
        "NO_AUTH": AuthError,
        "ORDER_NOT_EXIST": NotFoundError,
        "RESOURCE_NOT_EXISTS": NotFoundError,
        # Undocumented: retried like a transient error, but a refund bounds it (a subclass).
        "SOMETHING_NEW": UnknownCodeError,
    }
    for code, cls in expected.items():
        error = error_for_code(code, "说明")
        assert type(error) is cls and error.code == code
    assert TransientError("X").retryable and not InvalidRequestError("X").retryable
    assert set(NON_RETRYABLE_ERRORS) == {InvalidRequestError, AuthError}
    # Errors cross process boundaries (Temporal failure conversion, multiprocessing).
    copy = pickle.loads(pickle.dumps(ConflictError("ORDERPAID", "订单已支付")))
    assert isinstance(copy, ConflictError) and copy.code == "ORDERPAID"
    assert str(copy) == "ORDERPAID: 订单已支付"
