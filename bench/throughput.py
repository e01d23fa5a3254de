"""End-to-end throughput: shebao contributions against a bare workflow of the same shape.

One Temporal dev server (its own SQLite file) serves both sides, one after the other, each with the
same topology: the benchmark process is the client (start, update, pay, signal, await the
result), and the workers run as their own processes, as in production. The bare side runs
`python -m bench.bare` (7 trivial activities, one update, one signal); the shebao side runs
`worker.py` with its database, simulators and the real contribution workflow. Prints the rates,
the ratio and the CPU each process spent per workflow, PostgreSQL's included, and the shebao
side's statements and transactions per contribution in the app and the simulators' databases
(bench/pgstats.py; `--sql-top N` lists the most frequent statements); asserts nothing. With
`--status-queries N`, it then queries N completed contributions' workflows one at a time and
prints what answering costs the worker (it replays each history).

    make bench                      # defaults: 300 workflows per side, 50 in flight, 1 worker
    .venv/bin/python bench/throughput.py --n 500 --workers 2
    .venv/bin/python bench/throughput.py --status-queries 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowHandle

from adapters.clock import activity_clock
from bench.bare import BareWorkflow
from bench.contributions import add_payers, contribution_input, start_and_pay
from bench.pgstats import PgMeter, PgReport, print_report
from bench.stack import Stack, cpu_seconds, postgres_databases
from domain.assessment import assess
from domain.months import Month
from settings import Settings
from storage.db import upgrade_database
from wiring import build_simulators
from workflows.contract import Timings
from workflows.contribution import ContributionWorkflow
from workflows.converter import connect

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Side:
    """One side's figures: workflows/s and CPU milliseconds per workflow by process."""

    name: str
    rate: float
    cpu_ms: dict[str, float]
    postgres: PgReport | None = None


async def run_many(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Runs `one(i)` for i < n with at most `concurrency` in flight; returns workflows/s."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> None:
        async with gate:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def wait_for_pollers(client: Client, task_queue: str, count: int) -> None:
    """Until `count` worker processes poll the queue's workflow tasks (they start in seconds)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    for _ in range(600):
        response = await client.workflow_service.describe_task_queue(request)
        if len({p.identity for p in response.pollers}) >= count:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"{count} worker(s) did not start polling {task_queue} within 60 s")


@contextmanager
def cpu_meter(stack: Stack, names: list[str], n: int, out: dict[str, float]) -> Iterator[None]:
    """CPU milliseconds per workflow spent meanwhile by the server, each worker and us."""
    pids = {name: stack.procs[name].pid for name in names}
    pids["benchmark client"] = -1

    def now(pid: int) -> float:
        return time.process_time() if pid == -1 else cpu_seconds(pid)

    before = {name: now(pid) for name, pid in pids.items()}
    yield
    for name, pid in pids.items():
        out[name] = (now(pid) - before[name]) * 1000 / n


async def bare_side(stack: Stack, client: Client, args: argparse.Namespace) -> Side:
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    workers = [f"bare-worker-{i}" for i in range(args.workers)]
    for name in workers:
        stack.start_process(name, [sys.executable, "-m", "bench.bare", "--task-queue", queue])
    await wait_for_pollers(client, queue, args.workers)

    async def one(i: int) -> None:
        handle = await client.start_workflow(
            BareWorkflow.run, id=f"bare-{queue}-{i}", task_queue=queue
        )
        await handle.execute_update(BareWorkflow.ready)
        await handle.signal(BareWorkflow.paid)
        await handle.result()

    cpu: dict[str, float] = {}
    with cpu_meter(stack, ["temporal", *workers], args.n, cpu):
        rate = await run_many(args.n, args.concurrency, one)
    stack.stop_processes(workers)
    return Side("bare baseline", rate, cpu)


async def shebao_side(
    stack: Stack, client: Client, args: argparse.Namespace, meter: PgMeter
) -> Side:
    settings = Settings()
    await upgrade_database(settings.resolved_database_url)
    payers, book = await add_payers(settings, args.n)
    today = datetime.now(SHANGHAI).date()
    month = Month.from_date(today)
    assessment = assess(book, [month], 60, today)
    # The payer's side of the cashier: pays each order at the simulator, as a phone would.
    sim = (await build_simulators(settings, activity_clock)).simulators.payments
    assert sim is not None
    workers = [f"worker-{i}" for i in range(args.workers)]
    for name in workers:
        stack.start_process(name, [sys.executable, "worker.py"])
    await wait_for_pollers(client, settings.task_queue, args.workers)

    completed: list[WorkflowHandle[Any, Any]] = []

    async def one(i: int) -> None:
        inp = contribution_input(payers[i], month, assessment, Timings())
        handle = await start_and_pay(client, sim, inp, settings.task_queue)
        result = await handle.result()
        if result.status != "COMPLETED":
            raise RuntimeError(f"contribution ended {result.status}")
        completed.append(handle)

    cpu: dict[str, float] = {}
    meter.start()
    with cpu_meter(stack, ["temporal", *workers], args.n, cpu):
        rate = await run_many(args.n, args.concurrency, one)
    postgres = meter.stop()
    if args.status_queries:
        await query_completed(stack, workers, completed[: args.status_queries])
    stack.stop_processes(workers)
    return Side("shebao", rate, cpu, postgres)


async def query_completed(
    stack: Stack, workers: list[str], handles: list[WorkflowHandle[Any, Any]]
) -> None:
    """One status query per completed contribution, one after another, as GET
    /contributions/{id} made for every status before settled ones were read from storage: a
    closed workflow is not cached, so a worker replays its history to answer."""
    pids = [stack.procs[name].pid for name in workers]

    def workers_cpu() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    cpu_before, started = workers_cpu(), time.perf_counter()
    for handle in handles:
        await handle.query(ContributionWorkflow.status)
    n = len(handles)
    wall_ms = (time.perf_counter() - started) * 1000 / n
    cpu_ms = (workers_cpu() - cpu_before) * 1000 / n
    print(
        f"status query of a completed contribution: {wall_ms:.1f} ms each,"
        f" {cpu_ms:.1f} ms of worker CPU each (n={n}, one at a time)"
    )


async def run(
    args: argparse.Namespace, workdir: Path, database: dict[str, str], meter: PgMeter
) -> list[Side]:
    stack = Stack(
        workdir,
        {
            "SHEBAO_TASK_QUEUE": f"shebao-{uuid.uuid4().hex[:6]}",
            "SHEBAO_PAYMENT_CHANNEL": "simulator",
            "SHEBAO_SIM_POSTING_DELAY_S": "0",
            "SHEBAO_SIM_TREASURY_DELAY_S": "0",
            "SHEBAO_WORKER_METRICS_ADDRESS": "",
            **database,
        },
    )
    os.environ.update(stack.setting_env())
    try:
        stack.start_temporal()
        client = await connect(Settings())
        return [await bare_side(stack, client, args), await shebao_side(stack, client, args, meter)]
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="workflows per side")
    parser.add_argument("--concurrency", type=int, default=50, help="workflows in flight")
    parser.add_argument("--workers", type=int, default=1, help="worker processes per side")
    parser.add_argument(
        "--status-queries",
        type=int,
        default=0,
        help="then query this many completed contributions' workflows (the replay cost)",
    )
    parser.add_argument(
        "--sql-top",
        type=int,
        default=0,
        help="also list this many of the most frequent statements per database",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="shebao-bench-") as tmp,
        postgres_databases("bench") as (server, database),
    ):
        meter = PgMeter(
            server,
            {"app": database["SHEBAO_DATABASE_URL"], "sim": database["SHEBAO_SIM_DATABASE_URL"]},
        )
        bare, ours = asyncio.run(run(args, Path(tmp), database, meter))
    print(
        f"dev server: SQLite file; app database: PostgreSQL; n={args.n};"
        f" concurrency={args.concurrency}; worker processes per side={args.workers}"
    )
    for side in (bare, ours):
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in side.cpu_ms.items())
        print(f"{side.name:<14}: {side.rate:6.2f} workflows/s; CPU ms per workflow: {cpu}")
    print(f"ratio         : {ours.rate / bare.rate:6.2f}  (target >= 0.6)")
    if ours.postgres is not None:
        print_report(ours.postgres, args.n, top=args.sql_top)
        # With every process on the same saturated cores, rates go as the inverse of the CPU
        # each workflow costs in all: a reading that other load on the machine sways less
        # than the two sides' rates, measured one after the other.
        ours_ms = sum(ours.cpu_ms.values()) + ours.postgres.cpu_s * 1000 / args.n
        bare_ms = sum(bare.cpu_ms.values())
        print(
            f"CPU in all    : bare {bare_ms:.1f} ms, shebao {ours_ms:.1f} ms per workflow"
            f" (PostgreSQL included); bare/shebao {bare_ms / ours_ms:.2f}"
        )


if __name__ == "__main__":
    main()
