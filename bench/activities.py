"""CPU per step: the contribution's activities called directly, one contribution after another.

No Temporal server and no workflow: each activity of the happy path runs through the SDK's
ActivityEnvironment against the real database and simulators, as the worker calls it. Prints
the CPU milliseconds each step costs per contribution, which is the activities' share of the
worker's CPU in bench/throughput.py; asserts nothing.

    .venv/bin/python bench/activities.py                       # 300 contributions
    .venv/bin/python bench/activities.py --n 500
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.testing import ActivityEnvironment

from adapters.clock import activity_clock
from bench.contributions import add_payers, contribution_input
from bench.stack import databases
from domain.assessment import assess
from domain.months import Month
from domain.payments import PaymentState
from domain.vocabulary import PostingState
from settings import Settings
from storage.db import make_sessionmaker, upgrade_database
from wiring import build_adapters
from worker import build_activities, make_worker_engine, make_worker_sim_engine
from workflows.contract import (
    CertifyRequest,
    ChargeRequest,
    PaymentCheck,
    PostingCheckRequest,
    PostingRequestMsg,
    RecordPaymentRequest,
    Timings,
    TreasuryCheckRequest,
    VerifyRequest,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Steps:
    """Runs activities as the worker would, adding up the CPU each step name costs."""

    def __init__(self) -> None:
        self.env = ActivityEnvironment()
        self.cpu_s: dict[str, float] = defaultdict(float)

    async def run(self, name: str, activity: Callable[[Any], Awaitable[Any]], arg: Any) -> Any:
        # The simulators read the time from the attempt's scheduled time, as under a worker.
        self.env.info = dataclasses.replace(
            self.env.info, current_attempt_scheduled_time=datetime.now(SHANGHAI)
        )
        started = time.process_time()
        result = await self.env.run(activity, arg)
        self.cpu_s[name] += time.process_time() - started
        return result


async def run(n: int) -> dict[str, float]:
    settings = Settings()
    await upgrade_database(settings.resolved_database_url)
    payers, book = await add_payers(settings, n)
    today = datetime.now(SHANGHAI).date()
    month = Month.from_date(today)
    assessment = assess(book, [month], 60, today)
    engine = make_worker_engine(settings)
    systems = await build_adapters(settings, activity_clock, make_worker_sim_engine(settings))
    sim = systems.simulators.payments
    assert sim is not None
    acts = build_activities(settings, systems.adapters, make_sessionmaker(engine))
    steps = Steps()
    try:
        for payer in payers:
            inp = contribution_input(payer, month, assessment, Timings())
            cid, now = inp.contribution_id, datetime.now(SHANGHAI)
            verdict = await steps.run(
                "verify_and_reserve",
                acts.verify_and_reserve,
                VerifyRequest(contribution=inp, at=now),
            )
            order = await steps.run(
                "create_payment_order",
                acts.create_payment_order,
                ChargeRequest(
                    contribution_id=cid,
                    out_trade_no=f"SB{cid}01",
                    amount_fen=inp.total_fen,
                    expires_at=now + timedelta(minutes=15),
                    channel=inp.channel,
                    provider=inp.provider,
                    product=inp.product,
                    description="bench",
                    at=now,
                ),
            )
            # The payer's side (in bench/throughput.py the client's, not the worker's CPU).
            paid = await sim.pay(order.out_trade_no, "success")
            check = PaymentCheck(
                out_trade_no=order.out_trade_no,
                state=PaymentState.PAID,
                provider_state=paid.provider_state,
                transaction_id=paid.transaction_id,
                amount_fen=inp.total_fen,
                paid_at=paid.success_time,
            )
            await steps.run(
                "record_payment",
                acts.record_payment,
                RecordPaymentRequest(
                    contribution_id=cid,
                    payment=check,
                    treasury_lag_business_days=verdict.treasury_lag_business_days,
                    at=now,
                ),
            )
            posting = await steps.run(
                "submit_posting",
                acts.submit_posting,
                PostingRequestMsg(
                    contribution_id=cid,
                    payer_ref=inp.payer_ref,
                    insurance=inp.insurance,
                    months=inp.months,
                    amount_fen=inp.total_fen,
                    paid_at=paid.success_time or now,
                    at=now,
                ),
            )
            while posting.state == PostingState.PENDING:
                posting = await steps.run(
                    "check_posting",
                    acts.check_posting,
                    PostingCheckRequest(contribution_id=cid, posting_id=posting.posting_id, at=now),
                )
            receipt = None
            while receipt is None:
                receipt = await steps.run(
                    "check_treasury",
                    acts.check_treasury,
                    TreasuryCheckRequest(
                        contribution_id=cid,
                        out_trade_no=order.out_trade_no,
                        amount_fen=inp.total_fen,
                        paid_at=paid.success_time or now,
                        lag_business_days=verdict.treasury_lag_business_days,
                        at=now,
                    ),
                )
            await steps.run(
                "issue_certificate",
                acts.issue_certificate_eligibility,
                CertifyRequest(contribution_id=cid, at=now),
            )
    finally:
        await engine.dispose()
        await systems.simulators.engine.dispose()
    return {name: seconds * 1000 / n for name, seconds in steps.cpu_s.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="contributions")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="shebao-bench-") as tmp,
        databases("bench") as database,
    ):
        os.environ.update(
            {
                "SHEBAO_DATA_DIR": tmp,
                "SHEBAO_PAYMENT_CHANNEL": "simulator",
                "SHEBAO_SIM_POSTING_DELAY_S": "0",
                "SHEBAO_SIM_TREASURY_DELAY_S": "0",
                **database,
            }
        )
        per_step = asyncio.run(run(args.n))
    print(f"app database: PostgreSQL; n={args.n}; CPU ms per contribution by step:")
    for name, ms in per_step.items():
        print(f"  {name:<22} {ms:6.2f}")
    print(f"  {'all activities':<22} {sum(per_step.values()):6.2f}")


if __name__ == "__main__":
    main()
