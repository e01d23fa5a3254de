"""Every setting of shebao in one pydantic-settings class (environment prefix SHEBAO_)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    """Read once at start-up and passed down; nothing reads the environment elsewhere."""

    model_config = SettingsConfigDict(env_prefix="SHEBAO_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = REPO_ROOT / ".data"

    # Storage. SQLite file by default; PostgreSQL by URL (postgresql+asyncpg://...).
    database_url: str = ""
    # The simulators keep their state in a database both the API and the worker see.
    sim_database_url: str = ""

    # Temporal.
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "shebao-contributions"
    temporal_ui_url: str = "http://localhost:8233"

    # API.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = ""
    operator_token: str = Field(default="dev-operator-token", repr=False)
    # Key of the keyed hash that turns (id type, id number) into the pseudonymous PayerRef.
    payer_ref_key: str = Field(default="dev-payer-ref-key-change-me", repr=False)
    session_ttl_minutes: int = 120
    quote_ttl_minutes: int = 30
    captcha_bypass: str | None = None

    # Policy: the province whose tables are loaded from domain/data.
    province: str = "guizhou"

    # Payment order: how long the payer has, and how often we ask the channel when no callback came.
    payment_window_s: int = 15 * 60
    payment_poll_interval_s: int = 60
    posting_poll_interval_s: int = 10 * 60
    treasury_poll_interval_s: int = 60 * 60
    refund_poll_interval_s: int = 5 * 60

    # Simulators (the default channel, posting system and treasury).
    simulators: bool = True
    sim_posting_delay_s: float = 4 * 3600
    # None: the receipt arrives after the policy's treasury lag in business days.
    sim_treasury_delay_s: float | None = None
    sim_posting_failure_rate: float = 0.0
    sim_refund_delay_s: float = 5 * 60
    sim_bank_card_refund_delay_s: float = 2 * 24 * 3600
    sim_lost_callback_rate: float = 0.0
    sim_duplicate_callback_rate: float = 0.0
    sim_seed: int | None = None

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.env == "production":
            if self.captcha_bypass:
                raise ValueError("SHEBAO_CAPTCHA_BYPASS is refused when SHEBAO_ENV=production")
            if self.operator_token.startswith("dev-") or self.payer_ref_key.startswith("dev-"):
                raise ValueError("production needs SHEBAO_OPERATOR_TOKEN and SHEBAO_PAYER_REF_KEY")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'shebao.db'}"

    @cached_property
    def resolved_sim_database_url(self) -> str:
        return self.sim_database_url or f"sqlite+aiosqlite:///{self.data_dir / 'simulators.db'}"

    @cached_property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.api_host}:{self.api_port}"
