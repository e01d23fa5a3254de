"""The simulators' knobs come from the sim_* settings."""

from __future__ import annotations

from settings import Settings
from simulators.config import SimConfig


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
