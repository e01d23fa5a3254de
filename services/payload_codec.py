"""Temporal payloads encrypted and decrypted for operators' tools (Temporal UI, the CLI)."""

from __future__ import annotations

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from services.errors import ServiceError
from settings import Settings
from workflows.codec import EncryptionCodec
from workflows.converter import keyring


def _payloads(body: bytes) -> Payloads:
    try:
        return json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError, ValueError):
        raise ServiceError(400, "BAD_REQUEST", "请求内容不是有效的载荷列表", "payloads") from None


def _check_namespace(settings: Settings, given: str | None) -> None:
    if given is not None and given != settings.temporal_namespace:
        raise ServiceError(400, "BAD_REQUEST", "命名空间不正确", "X-Namespace")


async def encode(settings: Settings, namespace: str | None, body: bytes) -> str:
    """The codec protocol's JSON: {"payloads": [...]} in, the same shape encrypted out."""
    _check_namespace(settings, namespace)
    codec = EncryptionCodec(keyring(settings))
    out = Payloads(payloads=await codec.encode(list(_payloads(body).payloads)))
    return json_format.MessageToJson(out)


async def decode(settings: Settings, namespace: str | None, body: bytes) -> str:
    """Decrypted payloads; 422 UNDECODABLE when no key of the ring opens them."""
    _check_namespace(settings, namespace)
    codec = EncryptionCodec(keyring(settings))
    try:
        out = Payloads(payloads=await codec.decode(list(_payloads(body).payloads)))
    except ValueError:
        raise ServiceError(422, "UNDECODABLE", "载荷无法用现有密钥解密", "payloads") from None
    return json_format.MessageToJson(out)
