"""Operator-facing text that stays readable in Temporal without the codec key (summaries)."""

from __future__ import annotations

from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter

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


class ShebaoPayloadConverter(PydanticPayloadConverter):
    """The pydantic payload converter, with ClearText marked (nullary, as the SDK requires)."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(
            *(
                _ClearTextJson() if c.encoding == "json/plain" else c
                for c in self.converters.values()
            )
        )
