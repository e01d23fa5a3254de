"""Simulator knobs (delays, fault rates, seed), taken from the sim_* settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings


@dataclass(frozen=True)
class SimConfig:
    posting_delay_s: float = 4 * 3600
    treasury_delay_s: float | None = None  # None: the policy's lag in business days
    posting_failure_rate: float = 0.0
    refund_delay_s: float = 5 * 60  # 零钱 (bank_type OTHERS)
    bank_card_refund_delay_s: float = 2 * 24 * 3600
    lost_callback_rate: float = 0.0
    duplicate_callback_rate: float = 0.0
    seed: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SimConfig:
        return cls(
            posting_delay_s=settings.sim_posting_delay_s,
            treasury_delay_s=settings.sim_treasury_delay_s,
            posting_failure_rate=settings.sim_posting_failure_rate,
            refund_delay_s=settings.sim_refund_delay_s,
            bank_card_refund_delay_s=settings.sim_bank_card_refund_delay_s,
            lost_callback_rate=settings.sim_lost_callback_rate,
            duplicate_callback_rate=settings.sim_duplicate_callback_rate,
            seed=settings.sim_seed,
        )

    def draw(self, *parts: str) -> float:
        """A uniform number in [0, 1) fixed by the seed and the object's key.

        Hash-based rather than random.Random so a retried call, another process or a
        restarted worker draws exactly the same outcome for the same object.
        """
        material = "\x1f".join((str(self.seed), *parts)).encode()
        digest = hashlib.sha256(material).digest()
        return int.from_bytes(digest[:8], "big") / 2**64
