"""Operator-facing text that stays readable in Temporal without the codec key (summaries)."""

from __future__ import annotations

from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import EncodingPayloadConverter, JSONProtoPayloadConverter

# Metadata of a payload the codec must leave unencrypted.
CLEAR_MARK = "shebao-clear"


class ClearText(str):
    """A string the codec does not encrypt: operator summaries, built from non-personal fields
    only (statuses, months, amounts, step names) — never from anything a payer typed."""


class _ClearTextJson(PydanticJSONPlainPayloadConverter):
    """Pydantic's json/plain converter that marks ClearText payloads for the codec."""

    def to_payload(self, value: Any) -> Payload | None:
        payload = super().to_payload(value)
        if payload is not None and isinstance(value, ClearText):
            payload.metadata[CLEAR_MARK] = b"1"
        return payload


class _WorkflowMetadataJson(JSONProtoPayloadConverter):
    """The json/protobuf converter, marking the answer to Temporal UI's metadata query.

    That answer (`__temporal_workflow_metadata`) holds the workflow's current details, which
    workflows write from workflows/summaries.py, and the names of its queries, signals and
    updates: operator text like the summaries, so readable without the key too.
    """

    def to_payload(self, value: Any) -> Payload | None:
        payload = super().to_payload(value)
        if payload is not None and isinstance(value, WorkflowMetadata):
            payload.metadata[CLEAR_MARK] = b"1"
        return payload


_MARKING: dict[str, type[EncodingPayloadConverter]] = {
    "json/plain": _ClearTextJson,
    "json/protobuf": _WorkflowMetadataJson,
}


class ShebaoPayloadConverter(PydanticPayloadConverter):
    """The pydantic payload converter, with operator text marked (nullary, as the SDK requires)."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(
            *(
                _MARKING[c.encoding]() if c.encoding in _MARKING else c
                for c in self.converters.values()
            )
        )
