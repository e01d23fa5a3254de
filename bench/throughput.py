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
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdnum.iso7064 import mod_11_2
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.clock import activity_clock
from adapters.factory import build_simulators
from bench.bare import BareWorkflow, bare_step
from domain.assessment import assess
from domain.contribution import (
    ContributionInput,
    PaymentNotice,
    QuoteLine,
    Timings,
)
from domain.months import Month
from domain.payer_ref import payer_ref
from domain.vocabulary import Channel, IdType, Insurance, Sex, TradeState
from settings import Settings
from storage import persons
from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.policy_book import load_policy_book
from worker import build_activities, build_worker
from workflows import search_attributes as sa
from workflows.contribution import ContributionWorkflow
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


def resident_id(i: int) -> str:
    body = f"520102{date(1980, 1, 1) + timedelta(days=i):%Y%m%d}{(i % 500) * 2 + 1:03d}"
    return body + mod_11_2.calc_check_digit(body)


async def shebao(client: Client, workdir: Path, n: int, concurrency: int) -> float:
    settings = Settings(
        data_dir=workdir,
        sim_posting_delay_s=0,
        sim_treasury_delay_s=0,
        task_queue=f"shebao-{uuid.uuid4().hex[:6]}",
    )
    await upgrade_database(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    month = Month.from_date(time_today())
    person_ids: list[tuple[str, str]] = []
    async with sessions.begin() as session:
        for i in range(n):
            number = resident_id(i)
            ref = payer_ref(settings.payer_ref_key, "resident_id", number)
            person = await persons.add_person(
                session,
                id_type=IdType.RESIDENT_ID,
                id_number=number,
                name="测试",
                birth_date=date(1980, 1, 1) + timedelta(days=i),
                sex=Sex.MALE,
                payer_ref=ref,
            )
            await persons.upsert_registration(
                session, person_id=person.id, insurance=Insurance.PENSION, start_month="2020-01"
            )
            person_ids.append((person.id, ref))
        book = await load_policy_book(session)
    assessment = assess(book, [month], 60, time_today())
    adapters = await build_simulators(settings, activity_clock)
    sim = adapters.payment_sim
    assert sim is not None

    async def one(i: int) -> None:
        person_id, ref = person_ids[i]
        cid = uuid.uuid4().hex[:24]
        inp = ContributionInput(
            contribution_id=cid,
            quote_id="bench",
            person_id=person_id,
            payer_ref=ref,
            insurance=Insurance.PENSION,
            months=[str(month)],
            grade=60,
            back_payment=False,
            channel=Channel.WECHAT_BALANCE,
            lines=[QuoteLine.model_validate(x.model_dump()) for x in assessment.lines],
            total_fen=assessment.total_fen,
            timings=Timings(),
        )
        handle = await client.start_workflow(
            ContributionWorkflow.run,
            inp,
            id=f"contribution-{cid}",
            task_queue=settings.task_queue,
            search_attributes=sa.initial(
                payer_ref=ref,
                insurance=inp.insurance,
                months=inp.months,
                channel=inp.channel,
                amount_fen=inp.total_fen,
                back_payment=False,
                status="VERIFYING",
            ),
        )
        order = await handle.execute_update(ContributionWorkflow.payment_details)
        status = await sim.pay(order.out_trade_no, "success")
        await handle.signal(
            ContributionWorkflow.payment_notified,
            PaymentNotice(
                event_id=f"EV-{cid}",
                out_trade_no=order.out_trade_no,
                trade_state=TradeState.SUCCESS,
                transaction_id=status.transaction_id,
                amount_fen=inp.total_fen,
                success_time=status.success_time,
            ),
        )
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
