"""The one data converter every Temporal client in shebao uses (API, worker, tests, scripts)."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from settings import Settings
from workflows.cleartext import ShebaoPayloadConverter
from workflows.codec import DEV_CODEC_KEYS, EncryptionCodec, Keyring
from workflows.propagation import RequestIdPropagation


def keyring(settings: Settings) -> Keyring:
    """SHEBAO_CODEC_KEYS, or the fixed dev key outside production (Settings refuses it there)."""
    return Keyring.parse(settings.codec_keys or DEV_CODEC_KEYS)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic models in and out, every payload AES-GCM encrypted.

    Failure messages and stack traces are encoded too (they travel as payloads then), so nothing
    a payer typed can surface in plain text in the history. Search attributes and workflow IDs
    are not payloads; summaries wrapped in ClearText are left readable for operators.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=ShebaoPayloadConverter,
        payload_codec=EncryptionCodec(keyring(settings)),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def interceptors() -> list[Interceptor]:
    """Every client's interceptors; a worker takes those that are also worker interceptors.

    The request id rides along from the API to workflows and their activities.
    """
    return [RequestIdPropagation()]


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A Temporal client with shebao's data converter, at the configured address and namespace,
    with envconfig's API key and TLS when set (Settings.temporal_connect_config).

    `runtime` carries the SDK's telemetry (the worker's Prometheus endpoint).
    """
    return await Client.connect(
        **settings.temporal_connect_config(),
        data_converter=data_converter(settings),
        interceptors=interceptors(),
        runtime=runtime,
    )
