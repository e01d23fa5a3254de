"""Benchmark payers and contributions straight on the workflow: seeded persons, start-and-pay."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.assessment import Assessment
from domain.identity import compose_resident_id
from domain.months import Month
from domain.payer_ref import payer_ref
from domain.payments import PaymentState
from domain.policy import PolicyBook
from domain.vocabulary import Channel, IdType, Insurance, Sex
from settings import Settings
from simulators.payments import PaymentSimulator
from storage import persons
from storage.db import make_engine, make_sessionmaker
from storage.policy_book import load_policy_book
from workflows import search_attributes as sa
from workflows.contract import ContributionInput, PaymentNotice, QuoteLine, Timings, workflow_id
from workflows.contribution import ContributionWorkflow


def resident_id(i: int) -> str:
    """The i-th synthetic resident ID (valid check digit, male, born from 1980-01-01 on)."""
    return compose_resident_id("520102", date(1980, 1, 1) + timedelta(days=i), (i % 500) * 2 + 1)


async def add_payers(settings: Settings, n: int) -> tuple[list[tuple[str, str]], PolicyBook]:
    """n persons registered for pension since 2020, as (person_id, payer_ref); and the book."""
    engine = make_engine(settings.resolved_database_url)
    sessions = make_sessionmaker(engine)
    out: list[tuple[str, str]] = []
    try:
        async with sessions.begin() as session:
            for i in range(n):
                number = resident_id(i)
                ref = payer_ref(settings.payer_ref_key, IdType.RESIDENT_ID, number)
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
                out.append((person.id, ref))
        async with sessions() as session:
            book = await load_policy_book(session)
    finally:
        await engine.dispose()
    return out, book


def contribution_input(
    payer: tuple[str, str], month: Month, assessment: Assessment, timings: Timings
) -> ContributionInput:
    """What the API would start for one payer's month at the assessed amount."""
    person_id, ref = payer
    return ContributionInput(
        contribution_id=uuid.uuid4().hex[:24],
        quote_id="bench",
        person_id=person_id,
        payer_ref=ref,
        insurance=Insurance.PENSION,
        months=[str(month)],
        grade=60,
        back_payment=False,
        channel=Channel.WECHAT_BALANCE,
        provider="wechatpay",
        product="h5",
        lines=[QuoteLine.model_validate(x.model_dump()) for x in assessment.lines],
        total_fen=assessment.total_fen,
        timings=timings,
    )


async def start_and_pay(
    client: Client, sim: PaymentSimulator, inp: ContributionInput, task_queue: str
) -> WorkflowHandle[Any, Any]:
    """Start the workflow, pay its order at the simulator and relay the callback as a signal."""
    handle = await client.start_workflow(
        ContributionWorkflow.run,
        inp,
        id=workflow_id(inp.contribution_id),
        task_queue=task_queue,
        search_attributes=sa.initial(inp),
    )
    order = await handle.execute_update(ContributionWorkflow.payment_details)
    status = await sim.pay(order.out_trade_no, "success")
    await handle.signal(
        ContributionWorkflow.payment_notified,
        PaymentNotice(
            event_id=f"EV-{inp.contribution_id}",
            out_trade_no=order.out_trade_no,
            state=PaymentState.PAID,
            provider_state=status.provider_state,
            transaction_id=status.transaction_id,
            amount_fen=inp.total_fen,
            success_time=status.success_time,
        ),
    )
    return handle
