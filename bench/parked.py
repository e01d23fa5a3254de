"""Contributions parked awaiting the treasury: how long parking takes, worker memory after.

Starts the Temporal dev server (its own SQLite file), a throw-away PostgreSQL and `worker.py` as
subprocesses on loopback, the
treasury simulator slowed to ten days. This process starts contributions (at most `--concurrency`
in flight), pays each through the payment simulator and signals the workflow, which records
the payment, posts it and then sits in POSTED, polling the treasury once a day. It stops
starting new ones after `--n` or `--budget-s`, waits until every started one is parked, and
prints the time taken and the worker's memory, sampled as the count grows. Asserts nothing;
if the budget ran out first, the figures for `--n` are extrapolated and labelled so.

    .venv/bin/python bench/parked.py                       # 10,000 or 10 minutes
    .venv/bin/python bench/parked.py --n 500 --budget-s 120
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client

from adapters.clock import system_clock
from bench.contributions import add_payers, contribution_input, start_and_pay
from bench.stack import Stack, databases, memory_kib
from domain.assessment import assess
from domain.months import Month
from settings import Settings
from storage.db import upgrade_database
from wiring import build_simulators
from workflows.contract import Timings
from workflows.converter import connect

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_S = 24 * 3600
# A little past the SDK's default max_cached_workflows (1000): the cache is full from here.
CACHE_FULL_AT = 1200


async def parked_count(client: Client, queue: str) -> int:
    query = f"TaskQueue = '{queue}' AND ContributionStatus = 'POSTED'"
    return (await client.count_workflows(query)).count


async def run(n: int, concurrency: int, budget_s: float, workdir: Path) -> None:
    queue = f"parked-{uuid.uuid4().hex[:6]}"
    stack = Stack(
        workdir,
        {
            "SHEBAO_ENV": "dev",
            "SHEBAO_TASK_QUEUE": queue,
            "SHEBAO_PAYMENT_CHANNEL": "simulator",
            "SHEBAO_SIM_POSTING_DELAY_S": "0",
            # The treasury answers in ten days: every paid contribution stays parked.
            "SHEBAO_SIM_TREASURY_DELAY_S": str(10 * DAY_S),
        },
    )
    os.environ.update(stack.setting_env())
    settings = Settings()
    await upgrade_database(settings.resolved_database_url)
    setup_started = time.perf_counter()
    people, book = await add_payers(settings, n)
    print(f"{n} persons added in {time.perf_counter() - setup_started:.0f} s (not timed below)")
    today = datetime.now(SHANGHAI).date()
    month = Month.from_date(today)
    assessment = assess(book, [month], 60, today)
    timings = Timings(
        payment_poll_interval_s=600, posting_poll_interval_s=1, treasury_poll_interval_s=DAY_S
    )
    systems = await build_simulators(settings, system_clock)
    sim = systems.simulators.payments
    assert sim is not None
    samples: list[tuple[int, float, int]] = []  # (parked, seconds, worker RSS KiB)
    try:
        stack.start_temporal()
        stack.start_worker()
        client = await connect(settings)
        worker_pid = stack.procs["worker"].pid
        gate = asyncio.Semaphore(concurrency)
        started_at = time.perf_counter()
        deadline = started_at + budget_s
        failures = 0

        async def one(i: int) -> None:
            nonlocal failures
            async with gate:
                if time.perf_counter() > deadline:
                    return
                inp = contribution_input(people[i], month, assessment, timings)
                try:
                    await start_and_pay(client, sim, inp, queue)
                except Exception as exc:  # a figure to report, not a reason to stop
                    failures += 1
                    print(f"contribution {i} failed to start: {type(exc).__name__}", flush=True)

        async def sample_until(done: asyncio.Event) -> None:
            while not done.is_set():
                await asyncio.sleep(15)
                count = await parked_count(client, queue)
                rss = memory_kib(worker_pid)["VmRSS"]
                elapsed = time.perf_counter() - started_at
                samples.append((count, elapsed, rss))
                print(
                    f"  {elapsed:6.0f} s: {count:6d} parked; worker RSS {rss / 1024:.0f} MiB",
                    flush=True,
                )

        done = asyncio.Event()
        sampler = asyncio.create_task(sample_until(done))
        await asyncio.gather(*(one(i) for i in range(n)))
        sent = time.perf_counter() - started_at
        attempted = await client.count_workflows(f"TaskQueue = '{queue}'")
        while True:
            parked = await parked_count(client, queue)
            if (
                parked >= attempted.count - failures
                or time.perf_counter() - started_at > sent + 300
            ):
                break
            await asyncio.sleep(2)
        elapsed = time.perf_counter() - started_at
        done.set()
        await sampler
        # Settle: the worker's cache and the SDK's buffers, with nothing left to do.
        await asyncio.sleep(20)
        mem = stack.memory("worker")
    finally:
        await systems.aclose()
        stack.stop()

    rate = parked / elapsed if elapsed else 0.0
    print(f"n asked={n}; concurrency={concurrency}; budget={budget_s:.0f} s")
    print("Temporal dev server with a SQLite file; worker subprocess; PostgreSQL databases")
    print(f"started {attempted.count}, parked in POSTED {parked}, failed to start {failures}")
    print(f"time to park them: {elapsed:.0f} s ({rate:.1f} contributions/s)")
    print(
        f"worker RSS after parking {mem['VmRSS'] / 1024:.0f} MiB;"
        f" peak (VmHWM) {mem['VmHWM'] / 1024:.0f} MiB"
    )
    if parked < n and parked > 0 and rate > 0:
        print(f"EXTRAPOLATED to {n} (linear, not measured): time {n / rate:.0f} s;", end=" ")
        # The slope once the worker's workflow cache (max_cached_workflows, 1000) is full:
        # before that every parked workflow is also a cached one.
        full = [x for x in samples if x[0] >= CACHE_FULL_AT]
        if len(full) >= 2 and full[-1][0] > full[0][0]:
            (c0, _, m0), (c1, _, m1) = full[0], full[-1]
            per = (m1 - m0) / (c1 - c0)
            print(f"worker RSS {(m1 + per * (n - c1)) / 1024:.0f} MiB ({per:.2f} KiB each)")
        else:
            print("too few samples past the full workflow cache for memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="contributions to park")
    parser.add_argument("--concurrency", type=int, default=50, help="starts in flight")
    parser.add_argument("--budget-s", type=float, default=600, help="stop starting after this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shebao-parked-") as tmp, databases("parked") as db:
        os.environ.update(db)
        asyncio.run(run(args.n, args.concurrency, args.budget_s, Path(tmp)))


if __name__ == "__main__":
    main()
