"""Temporal UI's codec server: POST /codec/encode and /codec/decode, for operators only.

Protocol: body {"payloads": [{"metadata": {k: base64}, "data": base64}]}, header X-Namespace.
The UI calls from the browser, so CORS is answered for exactly the UI's origin
(SHEBAO_TEMPORAL_UI_URL). Credentials: the operator token as bearer; in `make dev` only
(SHEBAO_CODEC_TRUST_UI_ORIGIN, refused in production) the UI's own origin suffices, because the
UI has no way to send a static bearer token of ours.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel

from api.auth import OperatorToken, require_operator
from api.openapi import OPERATOR, VALIDATION, errors
from api.state import State
from services import payload_codec

PREFIX = "/codec"


async def codec_operator(request: Request, state: State, token: OperatorToken) -> str:
    """The operator token, or (dev only) a request from the Temporal UI's exact origin."""
    settings = state.settings
    origin = request.headers.get("origin")
    if (
        request.headers.get("Authorization") is None
        and settings.codec_trust_ui_origin
        and settings.env == "dev"
        and origin == settings.temporal_ui_url
    ):
        return "temporal-ui"
    return await require_operator(request, state, token)


router = APIRouter(prefix=PREFIX, tags=["codec"])


class CodecPayload(BaseModel):
    """A Temporal payload in proto3 JSON (empty fields are left out)."""

    metadata: dict[str, str] = {}  # base64 values
    data: str = ""  # base64


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload] = []


# The body is read raw (protobuf's own JSON parser), so FastAPI is only told what it holds.
_CODEC_DOC: dict[str, Any] = {
    "response_model": CodecPayloads,
    "responses": errors(*OPERATOR, VALIDATION, (400, "BAD_REQUEST"), (422, "UNDECODABLE")),
    "openapi_extra": {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/CodecPayloads"}}
            },
        }
    },
}


NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace")]


@router.post("/encode", **_CODEC_DOC)
async def encode(
    request: Request,
    state: State,
    _: Annotated[str, Depends(codec_operator)],
    namespace: NamespaceHeader = None,
) -> Response:
    body = await payload_codec.encode(state.settings, namespace, await request.body())
    return Response(body, media_type="application/json")


@router.post("/decode", **_CODEC_DOC)
async def decode(
    request: Request,
    state: State,
    _: Annotated[str, Depends(codec_operator)],
    namespace: NamespaceHeader = None,
) -> Response:
    body = await payload_codec.decode(state.settings, namespace, await request.body())
    return Response(body, media_type="application/json")
