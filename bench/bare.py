"""The bare baseline workflow: the contribution's shape with trivial activities and no I/O."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bare_step")
async def bare_step(n: int) -> int:
    return n + 1


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    """7 trivial activities (one local, like assess) around one signal, plus the start update."""

    def __init__(self) -> None:
        self._signalled = False
        self._ready = False

    @workflow.run
    async def run(self) -> int:
        timeout = timedelta(seconds=30)
        n = 0
        n = await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout)
        n = await workflow.execute_local_activity(bare_step, n, start_to_close_timeout=timeout)
        n = await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout)
        self._ready = True
        await workflow.wait_condition(lambda: self._signalled)
        for _ in range(4):
            n = await workflow.execute_activity(bare_step, n, start_to_close_timeout=timeout)
        return n

    @workflow.update
    async def ready(self) -> bool:
        await workflow.wait_condition(lambda: self._ready)
        return True

    @workflow.signal
    def paid(self) -> None:
        self._signalled = True
