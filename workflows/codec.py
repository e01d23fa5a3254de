"""AES-256-GCM payload codec: payloads encrypted at rest in Temporal, a key id on each, rotation."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from workflows.cleartext import CLEAR_MARK

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12

# A fixed key for `make dev` and tests only: Settings refuses it when SHEBAO_ENV=production.
# With it, history recorded on one developer machine decodes on another.
DEV_KEY_ID = "dev-1"
DEV_CODEC_KEYS = f"{DEV_KEY_ID}:Z8NQp/Jq7c3on70rFj5xwZ8cojVeLLBNUfQ97uUOFPQ="


class KeyringError(ValueError):
    """SHEBAO_CODEC_KEYS is malformed (the message never contains key material)."""


class UnknownKeyError(ValueError):
    """A payload was encrypted with a key this keyring does not hold."""


@dataclass(frozen=True)
class Keyring:
    """Keys by id, newest first: the first encrypts, every one decrypts."""

    keys: tuple[tuple[str, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the keyring is empty")
        ids = [kid for kid, _ in self.keys]
        if len(set(ids)) != len(ids):
            raise KeyringError("a key id appears twice")
        for kid, key in self.keys:
            if len(key) != 32:
                raise KeyringError(f"key {kid} is not 32 bytes (AES-256)")

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """`kid2:base64key,kid1:base64key` (newest first)."""
        keys: list[tuple[str, bytes]] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep or not kid.strip():
                raise KeyringError("each key is written key-id:base64")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(f"key {kid.strip()} is not valid base64") from None
            keys.append((kid.strip(), key))
        return cls(tuple(keys))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def get(self, kid: str) -> bytes | None:
        return next((key for k, key in self.keys if k == kid), None)


class EncryptionCodec(PayloadCodec):
    """Encrypts each whole payload (metadata and data); decodes unencrypted ones unchanged.

    Pass-through on decode keeps histories written before the codec (and by a not yet upgraded
    process during a rolling deploy) readable. The key id is bound as associated data, so a
    payload cannot be relabelled to another key.
    """

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._ciphers = {kid: AESGCM(key) for kid, key in keyring.keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        kid = self._keyring.current_id
        cipher = self._ciphers[kid]
        out = []
        for p in payloads:
            if p.metadata.get(CLEAR_MARK) == b"1":
                # An operator summary (workflows/cleartext.py): readable without the key.
                out.append(p)
                continue
            nonce = os.urandom(_NONCE_BYTES)
            sealed = cipher.encrypt(nonce, p.SerializeToString(), kid.encode())
            out.append(
                Payload(metadata={"encoding": ENCODING, KEY_ID: kid.encode()}, data=nonce + sealed)
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)
                continue
            kid = p.metadata.get(KEY_ID, b"").decode(errors="replace")
            cipher = self._ciphers.get(kid)
            if cipher is None:
                raise UnknownKeyError(f"payload encrypted with unknown key id {kid!r}")
            try:
                plain = cipher.decrypt(p.data[:_NONCE_BYTES], p.data[_NONCE_BYTES:], kid.encode())
            except InvalidTag:
                raise UnknownKeyError(f"payload does not decrypt with key {kid!r}") from None
            out.append(Payload.FromString(plain))
        return out
