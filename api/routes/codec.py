"""Temporal UI's codec server: POST /codec/encode and /codec/decode, for operators only.

Protocol: body {"payloads": [{"metadata": {k: base64}, "data": base64}]}, header X-Namespace.
The UI calls from the browser, so CORS is answered for exactly the UI's origin
(SHEBAO_TEMPORAL_UI_URL). Credentials: the operator token as bearer; in `make dev` only
(SHEBAO_CODEC_TRUST_UI_ORIGIN, refused in production) the UI's own origin suffices, because the
UI has no way to send a static bearer token of ours.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from api.auth import AuthorizationHeader, require_operator
from api.state import State
from services import payload_codec

PREFIX = "/codec"


async def codec_operator(
    request: Request, state: State, authorization: AuthorizationHeader = None
) -> str:
    """The operator token, or (dev only) a request from the Temporal UI's exact origin."""
    settings = state.settings
    origin = request.headers.get("origin")
    if (
        authorization is None
        and settings.codec_trust_ui_origin
        and settings.env == "dev"
        and origin == settings.temporal_ui_url
    ):
        return "temporal-ui"
    return await require_operator(request, state, authorization)


router = APIRouter(prefix=PREFIX, tags=["operations"])


NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace")]


@router.post("/encode")
async def encode(
    request: Request,
    state: State,
    _: Annotated[str, Depends(codec_operator)],
    namespace: NamespaceHeader = None,
) -> Response:
    body = await payload_codec.encode(state.settings, namespace, await request.body())
    return Response(body, media_type="application/json")


@router.post("/decode")
async def decode(
    request: Request,
    state: State,
    _: Annotated[str, Depends(codec_operator)],
    namespace: NamespaceHeader = None,
) -> Response:
    body = await payload_codec.decode(state.settings, namespace, await request.body())
    return Response(body, media_type="application/json")
