"""Reaching one contribution's workflow: how long an update may wait for it, and the start's
failure read back so asyncio does not report it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from temporalio.client import WithStartWorkflowOperation

# Updates wait for activities (closing an order, say): longer, still bounded.
UPDATE_TIMEOUT = timedelta(seconds=30)
# The operation's start outcome is settled by the time the update call returns or raises;
# the bound only guards against an SDK that left it open.
_SETTLED_WITHIN_S = 0.1


@contextlib.asynccontextmanager
async def start_failure_read(
    operation: WithStartWorkflowOperation[Any, Any],
) -> AsyncIterator[None]:
    """Around an update-with-start: when it fails, read the failure the SDK also stored in the
    operation (its workflow handle). Unread, asyncio logs it at ERROR with a traceback
    ("Future exception was never retrieved") whenever Temporal is unreachable or a closed run
    is replayed: expected moments the caller already answers with 503 or the stored outcome.
    """
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(operation.workflow_handle(), _SETTLED_WITHIN_S)
        raise
