"""Verifying WeChat Pay v3 callbacks: signature, freshness, decryption, merchant and app ids."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from adapters.payments.interface import CallbackRejected, PaymentNotification, VerifiedCallback
from adapters.payments.wechatpay.client import WeChatPayConfig
from adapters.payments.wechatpay.crypto import (
    SIGNATURE_TYPE,
    aead_decrypt,
    load_public_key,
    response_message,
    verify,
)
from adapters.payments.wechatpay.states import (
    EVENT_TRANSACTION_SUCCESS,
    payment_state,
    refund_state,
)

# WeChat's own rule for callbacks and responses: older than five minutes is a replay.
MAX_AGE_S = 5 * 60


__all__ = ["CallbackRejected", "CallbackVerifier", "VerifiedCallback"]


@dataclass(frozen=True)
class CallbackVerifier:
    mchid: str
    appid: str
    apiv3_key: str = field(repr=False)
    public_key: RSAPublicKey
    public_key_id: str
    now: Callable[[], float] = time.time

    @classmethod
    def from_config(cls, config: WeChatPayConfig) -> CallbackVerifier:
        return cls(
            mchid=config.mchid,
            appid=config.appid,
            apiv3_key=config.apiv3_key,
            public_key=load_public_key(config.public_key_pem.encode()),
            public_key_id=config.public_key_id,
        )

    def verify(self, headers: Mapping[str, str], body: bytes) -> VerifiedCallback:
        """The decrypted notification, or CallbackRejected (401 forged/stale, 400 not ours)."""
        text = self._check_signature(headers, body)
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            if envelope.get("resource_type") != "encrypt-resource":
                raise CallbackRejected(401, "resource_type")
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise CallbackRejected(401, "algorithm")
            plain = aead_decrypt(
                self.apiv3_key,
                str(resource["nonce"]),
                str(resource["ciphertext"]),
                str(resource.get("associated_data") or ""),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CallbackRejected(401, "malformed") from None
        if plain is None:
            raise CallbackRejected(401, "undecryptable")
        try:
            data = json.loads(plain)
            return self._notification(envelope, data)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CallbackRejected(400, "malformed resource") from None

    def _check_signature(self, headers: Mapping[str, str], body: bytes) -> str:
        signature = headers.get("wechatpay-signature", "")
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        serial = headers.get("wechatpay-serial", "")
        kind = headers.get("wechatpay-signature-type", SIGNATURE_TYPE)
        if not (signature and timestamp and nonce) or kind != SIGNATURE_TYPE:
            raise CallbackRejected(401, "missing signature")
        if serial != self.public_key_id:
            raise CallbackRejected(401, "unknown key")
        try:
            age = self.now() - int(timestamp)
        except ValueError:
            raise CallbackRejected(401, "bad timestamp") from None
        if abs(age) > MAX_AGE_S:
            raise CallbackRejected(401, "stale")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackRejected(401, "not utf-8") from None
        if not verify(self.public_key, response_message(timestamp, nonce, text), signature):
            raise CallbackRejected(401, "bad signature")
        return text

    def _notification(self, envelope: dict[str, Any], data: dict[str, Any]) -> VerifiedCallback:
        if data.get("mchid") != self.mchid:
            raise CallbackRejected(400, "mchid mismatch")
        event_type = str(envelope["event_type"])
        amount = data.get("amount") or {}
        create_time = datetime.fromisoformat(str(envelope["create_time"]))
        success_time = (
            datetime.fromisoformat(data["success_time"]) if data.get("success_time") else None
        )
        if event_type == EVENT_TRANSACTION_SUCCESS:
            if data.get("appid") != self.appid:
                raise CallbackRejected(400, "appid mismatch")
            total = int(amount["total"])
            notification = PaymentNotification(
                event_id=str(envelope["id"]),
                event_type=event_type,
                out_trade_no=str(data["out_trade_no"]),
                out_refund_no=None,
                transaction_id=data.get("transaction_id"),
                state=payment_state(data["trade_state"]),
                provider_state=str(data["trade_state"]),
                refund_status=None,
                amount_fen=total,
                success_time=success_time,
                bank_type=data.get("bank_type"),
                create_time=create_time,
            )
            return VerifiedCallback(notification, total)
        if not event_type.startswith("REFUND."):
            raise CallbackRejected(400, "event type")
        notification = PaymentNotification(
            event_id=str(envelope["id"]),
            event_type=event_type,
            out_trade_no=str(data["out_trade_no"]),
            out_refund_no=str(data["out_refund_no"]),
            transaction_id=data.get("transaction_id"),
            state=None,
            provider_state=None,
            refund_status=refund_state(data["refund_status"]),
            amount_fen=int(amount["refund"]),
            success_time=success_time,
            bank_type=None,
            create_time=create_time,
        )
        return VerifiedCallback(notification, int(amount["total"]))
