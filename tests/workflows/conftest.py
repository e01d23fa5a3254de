"""A contribution stack on the time-skipping server: fresh database, simulators, worker."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.contribution import ContributionActivities
from adapters.clock import activity_clock
from domain.assessment import assess
from domain.identity import compose_resident_id
from domain.months import Month
from domain.payer_ref import payer_ref
from domain.policy import PolicyBook
from domain.vocabulary import Channel, ContributionStatus, IdType, Insurance, Sex
from services.payer_messages import PayerMessages
from settings import Settings
from storage import persons, policies
from storage.db import make_engine, make_sessionmaker, upgrade_database
from storage.policy_book import load_policy_book
from tests.pg import fresh_databases
from tests.workflows.starting import start_contribution
from wiring import Systems, build_simulators
from worker import build_worker
from workflows.contract import ContributionInput, PaymentNotice, QuoteLine, Timings
from workflows.contribution import ContributionWorkflow

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Stack:
    """Everything a workflow test touches: the env, the database, the simulators."""

    env: WorkflowEnvironment
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    systems: Systems
    task_queue: str
    person_id: str
    payer_ref: str

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        return (await self.now()).astimezone(SHANGHAI).date()

    async def book(self) -> PolicyBook:
        async with self.sessions() as session:
            return await load_policy_book(session)

    async def contribution(
        self,
        months: list[str] | None = None,
        *,
        grade: int = 60,
        back_payment: bool = False,
        channel: Channel = Channel.WECHAT_BALANCE,
        timings: Timings | None = None,
    ) -> ContributionInput:
        """What the API would hand over after a quote (amounts from the policy in force)."""
        today = await self.today()
        chosen = months or [str(Month.from_date(today))]
        result = assess(await self.book(), [Month.parse(m) for m in chosen], grade, today)
        return ContributionInput(
            contribution_id=uuid.uuid4().hex[:24],
            quote_id="q_test",
            person_id=self.person_id,
            payer_ref=self.payer_ref,
            insurance=Insurance.PENSION,
            months=chosen,
            grade=grade,
            back_payment=back_payment,
            channel=channel,
            provider="wechatpay",
            product="h5",
            lines=[QuoteLine.model_validate(line.model_dump()) for line in result.lines],
            total_fen=result.total_fen,
            timings=timings or Timings(),
        )

    async def start(self, inp: ContributionInput) -> WorkflowHandle[Any, Any]:
        return await start_contribution(self.env.client, inp, self.task_queue)

    async def pay(self, out_trade_no: str, *, at: datetime | None = None) -> None:
        """The payer pays at the simulated cashier (no callback is delivered by this)."""
        sim = self.systems.simulators.payments
        assert sim is not None
        await sim.pay(out_trade_no, "success", at=at or await self.now())

    async def in_manual_review(
        self, inp: ContributionInput
    ) -> WorkflowHandle[ContributionWorkflow, Any]:
        """Paid, posting refused (the stack's posting must fail), the refund closed by the
        channel: the contribution waits for an operator (or the clock ran out: the caller checks).
        """
        sim = self.systems.simulators.payments
        assert sim is not None
        await sim.force("refund", inp.total_fen, "CLOSED")
        handle = await self.start(inp)
        order = await handle.execute_update(ContributionWorkflow.payment_details)
        await self.pay(order.out_trade_no)
        await self.deliver_callbacks(handle)
        for _ in range(20):
            await self.env.sleep(timedelta(hours=6))
            view = await handle.query(ContributionWorkflow.status)
            if view.status == ContributionStatus.MANUAL_REVIEW:
                break
        return handle

    async def deliver_callbacks(self, handle: WorkflowHandle[Any, Any]) -> int:
        """Relay the simulator's pending notifications as the notify endpoint would."""
        sim = self.systems.simulators.payments
        assert sim is not None
        sent = 0
        for n in await sim.pending_notifications():
            if n.state is not None and n.provider_state is not None:
                await handle.signal(
                    ContributionWorkflow.payment_notified,
                    PaymentNotice(
                        event_id=n.event_id,
                        out_trade_no=n.out_trade_no,
                        state=n.state,
                        provider_state=n.provider_state,
                        transaction_id=n.transaction_id,
                        amount_fen=n.amount_fen,
                        success_time=n.success_time,
                        bank_type=n.bank_type,
                    ),
                )
                sent += 1
            await sim.mark_delivered(n.event_id)
        return sent


HISTORIES = Path(__file__).parent / "histories"


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With SHEBAO_RECORD_HISTORIES=1, store the run's history for the replay test.

    Re-record only on purpose: the committed histories are what guards determinism.
    """
    if os.environ.get("SHEBAO_RECORD_HISTORIES") == "1":
        HISTORIES.mkdir(exist_ok=True)
        history = await handle.fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def _add_policies_around(sessions: async_sessionmaker[AsyncSession], year: int) -> None:
    """Tests run on whatever today is: give last, this and next year a policy open all year.

    The cut-off moves to 31 December so a test may skip the clock to the last days of a year.
    """
    async with sessions.begin() as session:
        book = await load_policy_book(session)
        template = book.for_year(max(book.years()))
        for y in (year - 1, year, year + 1):
            doc = (
                (book.get(y) or template)
                .model_copy(update={"year": y, "cutoff_date": date(y, 12, 31), "provisional": True})
                .model_dump(mode="json")
            )
            await policies.put_policy_document(session, y, doc, True, "tests")


@asynccontextmanager
async def make_stack(
    env: WorkflowEnvironment, tmp_path: Path, **overrides: Any
) -> AsyncIterator[Stack]:
    settings = Settings(
        data_dir=tmp_path,
        **fresh_databases(),
        **overrides,
    )
    await upgrade_database(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    now = await env.get_current_time()
    await _add_policies_around(sessions, now.astimezone(SHANGHAI).year)
    birth = date(1985, 6, 1)
    number = compose_resident_id("520102", birth, 31)
    ref = payer_ref(settings.payer_ref_key, "resident_id", number)
    async with sessions.begin() as session:
        person = await persons.add_person(
            session,
            id_type=IdType.RESIDENT_ID,
            id_number=number,
            name="张三",
            birth_date=birth,
            sex=Sex.MALE,
            payer_ref=ref,
        )
        # Registered well before: every month of this and last year is open to them.
        await persons.upsert_registration(
            session,
            person_id=person.id,
            insurance=Insurance.PENSION,
            start_month=f"{now.year - 1}-01",
        )
        person_id = person.id
    systems = await build_simulators(settings, activity_clock)
    activities = ContributionActivities(
        sessions,
        systems.adapters.payments,
        systems.adapters.posting,
        systems.adapters.treasury,
        base_url="http://127.0.0.1:8000",
        messages=PayerMessages(sessions, systems.adapters.messages, "http://127.0.0.1:8000"),
    )
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    worker = build_worker(
        env.client, settings, activities, task_queue=task_queue, fail_workflows_on_bugs=True
    )
    try:
        async with worker:
            yield Stack(env, settings, sessions, systems, task_queue, person_id, ref)
    finally:
        # The simulators' engine too: a pooled connection left to the garbage collector can be
        # finalised inside a later test's workflow activation, whose event loop cannot take it.
        await systems.aclose()
        await engine.dispose()


@pytest_asyncio.fixture
async def stack(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Stack]:
    async with make_stack(time_skipping_env, tmp_path) as s:
        yield s
