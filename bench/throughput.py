"""End-to-end throughput: shebao contributions against a bare workflow of the same shape.

Both run in the same process against the same embedded Temporal dev server (SQLite file),
one after the other, so the ratio says what our storage, simulators and bookkeeping cost on
top of the engine's own ceiling. Prints both rates and the ratio; asserts nothing.

    make bench                      # defaults: 300 workflows, 50 in flight
    .venv/bin/python bench/throughput.py --n 500 --concurrency 50 --in-memory
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.clock import activity_clock
from adapters.factory import build_simulators
from bench.bare import BareWorkflow, bare_step
from bench.contributions import add_payers, contribution_input, start_and_pay
from domain.assessment import assess
from domain.contribution import Timings
from domain.months import Month
from settings import Settings
from storage.db import make_engine, make_sessionmaker, upgrade_database
from worker import build_activities, build_worker
from workflows import search_attributes as sa
from workflows.converter import data_converter

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def run_many(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Runs `one(i)` for i < n with at most `concurrency` in flight; returns workflows/s."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> None:
        async with gate:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(n)))
    return n / (time.perf_counter() - started)


async def baseline(client: Client, n: int, concurrency: int) -> float:
    queue = f"bare-{uuid.uuid4().hex[:6]}"

    async def one(i: int) -> None:
        handle = await client.start_workflow(
            BareWorkflow.run, id=f"bare-{queue}-{i}", task_queue=queue
        )
        await handle.execute_update(BareWorkflow.ready)
        await handle.signal(BareWorkflow.paid)
        await handle.result()

    async with Worker(client, task_queue=queue, workflows=[BareWorkflow], activities=[bare_step]):
        return await run_many(n, concurrency, one)


# ---- shebao: real storage, simulators and the contribution workflow ------------------------------


async def shebao(client: Client, workdir: Path, n: int, concurrency: int) -> float:
    settings = Settings(
        data_dir=workdir,
        sim_posting_delay_s=0,
        sim_treasury_delay_s=0,
        task_queue=f"shebao-{uuid.uuid4().hex[:6]}",
    )
    await upgrade_database(settings.resolved_database_url)
    payers, book = await add_payers(settings, n)
    today = time_today()
    month = Month.from_date(today)
    assessment = assess(book, [month], 60, today)
    adapters = await build_simulators(settings, activity_clock)
    sim = adapters.payment_sim
    assert sim is not None
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)

    async def one(i: int) -> None:
        inp = contribution_input(payers[i], month, assessment, Timings())
        handle = await start_and_pay(client, sim, inp, settings.task_queue)
        result = await handle.result()
        if result.status != "COMPLETED":
            raise RuntimeError(f"contribution ended {result.status}")

    activities = build_activities(settings, adapters, sessions)
    try:
        async with build_worker(client, settings, activities):
            return await run_many(n, concurrency, one)
    finally:
        await engine.dispose()


def time_today() -> date:
    from datetime import datetime

    return datetime.now(SHANGHAI).date()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="workflows per side")
    parser.add_argument("--concurrency", type=int, default=50, help="workflows in flight")
    parser.add_argument("--in-memory", action="store_true", help="dev server without a DB file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shebao-bench-") as tmp:
        workdir = Path(tmp)
        extra = [] if args.in_memory else ["--db-filename", str(workdir / "temporal.db")]
        env = await WorkflowEnvironment.start_local(
            data_converter=data_converter(Settings()),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            search_attributes=list(sa.ALL_KEYS),
            dev_server_extra_args=extra,
            dev_server_log_level="error",
            ui=False,
        )
        async with env:
            bare = await baseline(env.client, args.n, args.concurrency)
            ours = await shebao(env.client, workdir, args.n, args.concurrency)
    server = "in-memory" if args.in_memory else "SQLite file"
    print(f"dev server: {server}; n={args.n}; concurrency={args.concurrency}")
    print(f"bare baseline : {bare:6.2f} workflows/s")
    print(f"shebao        : {ours:6.2f} workflows/s")
    print(f"ratio         : {ours / bare:6.2f}  (target >= 0.9)")


if __name__ == "__main__":
    asyncio.run(main())
