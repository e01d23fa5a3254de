"""Ends a step at once on the adapters' non-retryable errors, identified by class, not by name."""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from adapters.errors import NON_RETRYABLE_ERRORS


class ClassifiedErrors(Interceptor):
    """Registered on the worker (worker.build_worker), for ordinary and local activities alike.

    A retry policy's non_retryable_error_types matches failures by class name only, so naming
    our InvalidRequestError there also stopped the retries of SQLAlchemy's InvalidRequestError
    (and of any library's AuthError), which a retry or a fixed deployment can get past. Here the
    class decides: an adapter error that retrying cannot fix fails the attempt as non-retryable,
    and every other error is left to the step's retry policy.
    """

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except NON_RETRYABLE_ERRORS as err:
            # The type keeps the class's name: workflows and Temporal UI read it as before.
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err
