"""API latency under concurrent clients: p50/p95/p99 per route, requests/s, peak memory.

Starts the Temporal dev server (SQLite file), `worker.py` and `python -m api` (uvicorn) as
subprocesses on loopback, registers one person per client through the operator route, then
every client at once signs in, reads its options, quotes, starts a contribution and reads its
status and records `--reads` times. Prints figures; asserts nothing.

    .venv/bin/python bench/api_latency.py                 # 200 clients, 5 read rounds
    .venv/bin/python bench/api_latency.py --clients 50 --reads 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from stdnum.iso7064 import mod_11_2

from bench.stack import Stack
from domain.months import Month
from domain.policy import PolicyBook
from settings import Settings
from storage.db import upgrade_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR_TOKEN = "bench-operator-token"
ROUTES = ("sign-in", "options", "quote", "start", "status", "records")


def resident_id(i: int) -> str:
    body = f"520102{1980 + i % 20:04d}{1 + i % 12:02d}{1 + i % 28:02d}{100 + i // 40:03d}"
    return body + mod_11_2.calc_check_digit(body)


def percentile(sorted_ms: list[float], p: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms)) - 1))
    return sorted_ms[index]


async def open_policy_all_year(http: httpx.AsyncClient, operator: dict[str, str]) -> None:
    """This year's policy open until 31 December, whatever today is (as the API tests do)."""
    year = datetime.now(SHANGHAI).year
    book = PolicyBook.from_file()
    template = book.get(year) or book.for_year(max(book.years()))
    doc = template.model_copy(
        update={"year": year, "cutoff_date": date(year, 12, 31), "provisional": True}
    ).model_dump(mode="json")
    r = await http.put(f"/api/v1/operator/policies/{year}", json=doc, headers=operator)
    r.raise_for_status()


async def register(http: httpx.AsyncClient, operator: dict[str, str], i: int) -> dict[str, str]:
    trio = {"id_type": "resident_id", "id_number": resident_id(i), "name": "测试"}
    body = {**trio, "insurance": "pension", "start_month": f"{datetime.now(SHANGHAI).year}-01"}
    r = await http.post("/api/v1/operator/registrations", json=body, headers=operator)
    r.raise_for_status()
    return trio


async def client_session(
    http: httpx.AsyncClient,
    trio: dict[str, str],
    reads: int,
    timings: dict[str, list[float]],
    errors: dict[str, int],
) -> None:
    """One payer's visit; each request's wall time lands in timings[route]."""

    async def timed(route: str, method: str, url: str, **kw: object) -> httpx.Response:
        started = time.perf_counter()
        r = await http.request(method, url, **kw)  # type: ignore[arg-type]
        timings[route].append((time.perf_counter() - started) * 1000)
        if r.status_code >= 400:
            errors[f"{route} {r.status_code} {r.json().get('code')}"] += 1
        return r

    r = await timed("sign-in", "POST", "/api/v1/session", json=trio)
    if r.status_code != 200:
        return
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    await timed("options", "GET", "/api/v1/payers/me/options", headers=auth)
    month = str(Month.from_date(datetime.now(SHANGHAI).date()))
    quote = {
        "payer_ref": "me",
        "insurance": "pension",
        "months": [month],
        "back_payment": False,
        "grade": 60,
    }
    r = await timed("quote", "POST", "/api/v1/quotes", json=quote, headers=auth)
    if r.status_code != 201:
        return
    start = {"quote_id": r.json()["quote_id"], "channel": "wechat_balance"}
    headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    r = await timed("start", "POST", "/api/v1/contributions", json=start, headers=headers)
    if r.status_code != 201:
        return
    contribution_id = r.json()["contribution_id"]
    for _ in range(reads):
        await timed("status", "GET", f"/api/v1/contributions/{contribution_id}", headers=auth)
        await timed("records", "GET", "/api/v1/records", headers=auth)


async def run(clients: int, reads: int, workdir: Path) -> None:
    stack = Stack(
        workdir,
        {
            "SHEBAO_ENV": "dev",
            "SHEBAO_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "SHEBAO_TASK_QUEUE": f"bench-{uuid.uuid4().hex[:6]}",
            # One loopback address signs in every client: the limits would refuse the load.
            "SHEBAO_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
            "SHEBAO_RATE_LIMIT_PER_TARGET_PER_MINUTE": "1000000",
            "SHEBAO_PAYMENT_CHANNEL": "simulator",
        },
    )
    os.environ.update(stack.setting_env())
    settings = Settings()
    await upgrade_database(settings.resolved_database_url)
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    try:
        stack.start_temporal()
        stack.start_worker()
        stack.start_api()
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{stack.api_port}", timeout=60, limits=limits
        ) as http:
            await open_policy_all_year(http, operator)
            trios = [await register(http, operator, i) for i in range(clients + 1)]
            # One unmeasured visit first: imports, caches and connection set-up are not load.
            await client_session(http, trios.pop(), reads, defaultdict(list), defaultdict(int))
            timings: dict[str, list[float]] = defaultdict(list)
            errors: dict[str, int] = defaultdict(int)
            started = time.perf_counter()
            await asyncio.gather(*(client_session(http, t, reads, timings, errors) for t in trios))
            elapsed = time.perf_counter() - started
        api_mem = stack.memory("api")
        worker_mem = stack.memory("worker")
    finally:
        stack.stop()

    total = sum(len(v) for v in timings.values())
    print(f"clients={clients}; read rounds={reads}; API: uvicorn subprocess on loopback;")
    print("Temporal dev server with a SQLite file; worker subprocess; SQLite databases")
    print(f"{'route':<8} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for route in ROUTES:
        ms = sorted(timings.get(route, []))
        if not ms:
            print(f"{route:<8} {0:>5}")
            continue
        print(
            f"{route:<8} {len(ms):>5} {statistics.median(ms):>8.1f} {percentile(ms, 95):>8.1f}"
            f" {percentile(ms, 99):>8.1f} {ms[-1]:>8.1f}"
        )
    print(f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.0f} requests/s")
    print(f"errors (4xx/5xx): {dict(errors) or 'none'}")
    for name, mem in (("api", api_mem), ("worker", worker_mem)):
        print(
            f"{name:<6} peak RSS (VmHWM) {mem['VmHWM'] / 1024:6.1f} MiB;"
            f" RSS now {mem['VmRSS'] / 1024:6.1f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument("--reads", type=int, default=5, help="status+records rounds per client")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    args = parser.parse_args()
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        asyncio.run(run(args.clients, args.reads, args.workdir))
        return
    with tempfile.TemporaryDirectory(prefix="shebao-latency-") as tmp:
        asyncio.run(run(args.clients, args.reads, Path(tmp)))


if __name__ == "__main__":
    main()
