"""The bare baseline workflow: the contribution's shape with trivial activities and no I/O.

Runs as its own worker process, as `worker.py` does for the real workflow, so both sides of
`bench/throughput.py` have the same topology:

    python -m bench.bare --task-queue bare-1      # address from SHEBAO_TEMPORAL_ADDRESS
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


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


async def main() -> None:
    # Imported here: the workflow sandbox re-imports this module and needs none of it.
    from settings import Settings
    from workflows.converter import connect

    parser = argparse.ArgumentParser(description="bare baseline worker")
    parser.add_argument("--task-queue", required=True)
    args = parser.parse_args()
    # The same connection and data converter (payload encryption) as shebao's worker.
    client: Client = await connect(Settings())
    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[BareWorkflow],
        activities=[bare_step],
        max_concurrent_activities=100,
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
