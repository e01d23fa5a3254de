"""The AES-GCM payload codec: encrypts, rotates keys, passes plain payloads through."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from settings import Settings
from workflows.cleartext import ClearText
from workflows.codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    Keyring,
    KeyringError,
    UnknownKeyError,
)
from workflows.converter import data_converter


def key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def plain(text: str) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([text])[0]


async def test_encoded_payload_hides_the_data_and_names_its_key() -> None:
    codec = EncryptionCodec(Keyring.parse(key("k1")))
    [sealed] = await codec.encode([plain("520102198805170311 王㛃")])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"520102198805170311" not in sealed.SerializeToString()
    assert "王㛃".encode() not in sealed.SerializeToString()
    [back] = await codec.decode([sealed])
    assert back == plain("520102198805170311 王㛃")


async def test_payload_encrypted_with_an_old_key_decodes_after_rotation() -> None:
    old, new = key("2025-01"), key("2026-01")
    [sealed] = await EncryptionCodec(Keyring.parse(old)).encode([plain("before rotation")])
    rotated = EncryptionCodec(Keyring.parse(f"{new},{old}"))
    assert [await rotated.decode([sealed])][0] == [plain("before rotation")]
    [fresh] = await rotated.encode([plain("after rotation")])
    assert fresh.metadata[KEY_ID] == b"2026-01"


async def test_payload_of_a_retired_key_is_refused_not_garbled() -> None:
    [sealed] = await EncryptionCodec(Keyring.parse(key("gone"))).encode([plain("x")])
    with pytest.raises(UnknownKeyError):
        await EncryptionCodec(Keyring.parse(key("k2"))).decode([sealed])


async def test_relabelled_key_id_fails_authentication() -> None:
    a, b = key("a"), key("b")
    [sealed] = await EncryptionCodec(Keyring.parse(a)).encode([plain("x")])
    sealed.metadata[KEY_ID] = b"b"
    with pytest.raises(UnknownKeyError):
        await EncryptionCodec(Keyring.parse(f"{b},{a}")).decode([sealed])


async def test_unencrypted_payload_decodes_unchanged_for_old_histories() -> None:
    codec = EncryptionCodec(Keyring.parse(key("k1")))
    assert await codec.decode([plain("recorded before the codec")]) == [
        plain("recorded before the codec")
    ]


@pytest.mark.parametrize(
    "text",
    ["", "no-colon", "k1:not-base64!", f"k1:{base64.b64encode(b'short').decode()}"],
)
def test_malformed_keyring_is_refused_without_echoing_key_material(text: str) -> None:
    with pytest.raises(KeyringError) as err:
        Keyring.parse(text)
    assert "not-base64" not in str(err.value)


def test_duplicate_key_ids_are_refused() -> None:
    with pytest.raises(KeyringError):
        Keyring.parse(f"{key('k1')},{key('k1')}")


async def test_the_converter_encrypts_with_the_configured_newest_key() -> None:
    converter = data_converter(Settings(env="test", codec_keys=f"{key('new')},{key('old')}"))
    [payload] = await converter.encode(["x"])
    assert payload.metadata[KEY_ID] == b"new"
    assert await converter.decode([payload]) == ["x"]


async def test_clear_text_summaries_stay_readable_and_everything_else_is_sealed() -> None:
    converter = data_converter(Settings(env="test"))
    summary, other = await converter.encode([ClearText("pension 2026-03~2026-03 87267 fen"), "x"])
    assert summary.metadata["encoding"] == b"json/plain"
    assert summary.data == b'"pension 2026-03~2026-03 87267 fen"'
    assert other.metadata["encoding"] == ENCODING
    assert await converter.decode([summary, other]) == ["pension 2026-03~2026-03 87267 fen", "x"]
