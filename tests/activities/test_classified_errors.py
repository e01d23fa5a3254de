"""Whether a failed step is retried is decided by the adapters' error classes, not by names."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy.exc
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.classified_errors import ClassifiedErrors
from adapters.clock import activity_clock
from adapters.errors import AuthError, ConflictError, InvalidRequestError
from settings import Settings
from storage.db import make_engine, make_sessionmaker
from tests.pg import fresh_databases
from wiring import build_simulators
from worker import build_activities, build_worker

with workflow.unsafe.imports_passed_through():
    from workflows.contribution import STEP_RETRY, STEP_TIMEOUT
    from workflows.reconciliation import BILL_RETRY
    from workflows.reconciliation import STEP_RETRY as RECONCILIATION_RETRY

FAILURES: dict[str, Exception] = {
    "library_error_named_like_ours": sqlalchemy.exc.InvalidRequestError("a library's own error"),
    "channel_invalid_request": InvalidRequestError("PARAM_ERROR", "参数错误"),
    "channel_auth": AuthError("SIGN_ERROR", "签名错误"),
    "channel_conflict": ConflictError("ORDERPAID", "订单已支付"),
}


@activity.defn(name="step")
async def step(failure: str) -> int:
    """Fails its first attempt with the named error, and succeeds on the second."""
    if activity.info().attempt == 1:
        raise FAILURES[failure]
    return activity.info().attempt


@workflow.defn(sandboxed=False)
class OneStep:
    @workflow.run
    async def run(self, failure: str, local: bool) -> int:
        # Steps on our own database run as local activities, the others as ordinary ones.
        execute = workflow.execute_local_activity if local else workflow.execute_activity
        result: int = await execute(
            step, failure, start_to_close_timeout=STEP_TIMEOUT, retry_policy=STEP_RETRY
        )
        return result


@pytest.fixture(params=[False, True], ids=["activity", "local_activity"])
def local(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def run_step(env: WorkflowEnvironment, failure: str, local: bool) -> int:
    queue = f"errors-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OneStep],
        activities=[step],
        interceptors=[ClassifiedErrors()],
    ):
        result: int = await env.client.execute_workflow(
            OneStep.run, args=[failure, local], id=f"errors-{uuid.uuid4().hex}", task_queue=queue
        )
        return result


async def test_a_library_error_that_shares_a_name_with_ours_is_retried(
    time_skipping_env: WorkflowEnvironment, local: bool
) -> None:
    assert await run_step(time_skipping_env, "library_error_named_like_ours", local) == 2


async def test_a_conflict_is_left_to_the_steps_retry_policy(
    time_skipping_env: WorkflowEnvironment, local: bool
) -> None:
    assert await run_step(time_skipping_env, "channel_conflict", local) == 2


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [("channel_invalid_request", "InvalidRequestError"), ("channel_auth", "AuthError")],
)
async def test_an_adapter_error_that_retrying_cannot_fix_ends_the_step_at_once(
    time_skipping_env: WorkflowEnvironment, local: bool, failure: str, error_type: str
) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await run_step(time_skipping_env, failure, local)
    # The step would have succeeded on its second attempt: failing proves it was not retried.
    cause: BaseException | None = failed.value.cause
    if isinstance(cause, ActivityError):  # an ordinary activity's failure wraps the error
        assert cause.retry_state == RetryState.NON_RETRYABLE_FAILURE
        cause = cause.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == error_type and cause.non_retryable


@pytest.mark.parametrize("policy", [STEP_RETRY, RECONCILIATION_RETRY, BILL_RETRY])
def test_no_retry_policy_stops_retrying_by_a_class_name(policy: RetryPolicy) -> None:
    assert not policy.non_retryable_error_types


async def test_the_worker_classifies_adapter_errors(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, **fresh_databases())
    systems = await build_simulators(settings, activity_clock)
    engine = make_engine(settings.resolved_database_url)
    try:
        worker = build_worker(
            time_skipping_env.client,
            settings,
            build_activities(settings, systems.adapters, make_sessionmaker(engine)),
        )
        assert any(isinstance(i, ClassifiedErrors) for i in worker.config()["interceptors"])
    finally:
        await systems.aclose()
        await engine.dispose()
