"""The gateway's keys, identity, fault switches and delivery counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from pydantic import BaseModel

from adapters.payments.wechatpay.crypto import (
    MERCHANT_PUBLIC_FILE,
    PLATFORM_PRIVATE_FILE,
    PLATFORM_PUBLIC_FILE,
    PUBLIC_KEY_ID_PREFIX,
    ensure_key_files,
    key_id,
    load_private_key,
    load_public_key,
)


@dataclass(frozen=True)
class GatewayKeys:
    merchant_public: RSAPublicKey
    merchant_serial: str
    platform_private: RSAPrivateKey = field(repr=False)
    platform_key_id: str

    @classmethod
    def load(cls, directory: Path) -> GatewayKeys:
        """The key pairs in directory, generated on first start."""
        ensure_key_files(directory)
        merchant_pem = (directory / MERCHANT_PUBLIC_FILE).read_bytes()
        platform_pem = (directory / PLATFORM_PUBLIC_FILE).read_bytes()
        return cls(
            merchant_public=load_public_key(merchant_pem),
            merchant_serial=key_id(merchant_pem),
            platform_private=load_private_key((directory / PLATFORM_PRIVATE_FILE).read_bytes()),
            platform_key_id=key_id(platform_pem, PUBLIC_KEY_ID_PREFIX),
        )


@dataclass(frozen=True)
class GatewayConfig:
    mchid: str
    appid: str
    apiv3_key: str = field(repr=False)
    keys: GatewayKeys
    # The 公众号's AppSecret, for the 网页授权 code exchange the gateway also plays.
    app_secret: str = field(default="dev-wechat-app-secret", repr=False)
    # Divides NOTIFY_RETRY_SCHEDULE_S (60: the first retry after 0.25 s instead of 15 s).
    notify_speedup: float = 1.0
    # How long a forced TIMEOUT_* call hangs before answering: longer than the client waits.
    stall_s: float = 3.0
    deliver_interval_s: float = 0.2
    # Out-of-order mode holds due callbacks this long, then sends the batch newest first.
    out_of_order_window_s: float = 1.0


class Switches(BaseModel):
    """Fault injection, changed at run time through PUT /sim/switches."""

    duplicate: bool = False  # every acknowledged callback is sent once more, same id
    out_of_order: bool = False  # due callbacks are batched and sent newest first
    lose: bool = False  # callbacks are dropped (never sent)
    bad_signature_probe: bool = False  # a copy with a bad signature precedes each callback
    tamper_responses: int = 0  # the next n API responses have their body altered after signing
    bad_bill_hash: bool = False  # trade bills announce a wrong SHA1


class Stats(BaseModel):
    delivered: int = 0
    failed_attempts: int = 0
    lost: int = 0
    duplicates_sent: int = 0
    probes_rejected: int = 0
    probes_accepted: int = 0
