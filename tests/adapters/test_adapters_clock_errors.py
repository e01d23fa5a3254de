"""The adapter clock, the error classification, and building the simulators from settings."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import inspect, text
from temporalio import activity
from temporalio.testing import ActivityEnvironment

import simulators.store as sim_store
from adapters.clock import activity_clock, system_clock
from adapters.errors import (
    NON_RETRYABLE_ERRORS,
    AuthError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
    error_for_code,
)
from settings import Settings
from simulators.config import SimConfig
from simulators.payments import PaymentSimulator
from tests.simulators.fakes import FakeClock
from wiring import build_simulators


def test_activity_clock_falls_back_to_system_time_outside_an_activity() -> None:
    before = datetime.now(UTC)
    now = activity_clock()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= system_clock()


async def test_activity_clock_is_the_attempts_scheduled_time_inside_an_activity() -> None:
    scheduled = datetime(2026, 10, 10, 1, 0, tzinfo=UTC)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=scheduled)

    @activity.defn
    async def read_clock() -> datetime:
        return activity_clock()

    assert await env.run(read_clock) == scheduled


def test_errors_are_classified_by_provider_code() -> None:
    expected = {
        "SYSTEM_ERROR": TransientError,
        "FREQUENCY_LIMITED": TransientError,
        "TIMEOUT_AFTER_COMMIT": OutcomeUnknownError,
        "ORDERPAID": ConflictError,
        "ORDER_CLOSED": ConflictError,
        "PARAM_ERROR": InvalidRequestError,
        "INVALID_REQUEST": InvalidRequestError,
        "SIGN_ERROR": AuthError,
        "NO_AUTH": AuthError,
        "ORDER_NOT_EXIST": NotFoundError,
        "RESOURCE_NOT_EXISTS": NotFoundError,
    }
    for code, cls in expected.items():
        error = error_for_code(code, "说明")
        assert type(error) is cls and error.code == code
    assert TransientError("X").retryable and not InvalidRequestError("X").retryable
    assert set(NON_RETRYABLE_ERRORS) == {InvalidRequestError, AuthError}
    # Errors cross process boundaries (Temporal failure conversion, multiprocessing).
    copy = pickle.loads(pickle.dumps(ConflictError("ORDERPAID", "订单已支付")))
    assert isinstance(copy, ConflictError) and copy.code == "ORDERPAID"
    assert str(copy) == "ORDERPAID: 订单已支付"


def test_sim_config_comes_from_sim_settings() -> None:
    settings = Settings(
        sim_posting_delay_s=5,
        sim_treasury_delay_s=60,
        sim_posting_failure_rate=0.25,
        sim_refund_delay_s=1,
        sim_bank_card_refund_delay_s=2,
        sim_lost_callback_rate=0.1,
        sim_duplicate_callback_rate=0.2,
        sim_seed=9,
    )
    assert SimConfig.from_settings(settings) == SimConfig(5, 60, 0.25, 1, 2, 0.1, 0.2, 9)


async def test_build_simulators_creates_their_database_from_settings(
    tmp_path: Path, postgres_url: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", public_base_url="http://demo", sim_database_url=postgres_url
    )
    clock = FakeClock(datetime(2026, 3, 2, tzinfo=UTC))
    adapters = await build_simulators(settings, clock)
    try:
        assert isinstance(adapters.payment_sim, PaymentSimulator)
        assert adapters.payments is adapters.payment_sim
        assert adapters.payment_sim.cashier_url("SB1") == "http://demo/sim/cashier/SB1"
        assert adapters.sim_engine is not None
        async with adapters.sim_engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert tables >= set(sim_store.metadata.tables)
            # Stand-ins for remote systems: no wait for the disk at every commit.
            assert (await conn.scalar(text("SHOW synchronous_commit"))) == "off"
    finally:
        await adapters.aclose()
