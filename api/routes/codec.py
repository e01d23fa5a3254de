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
from google.protobuf import json_format
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from api.auth import AuthorizationHeader, require_operator
from api.errors import error_response
from api.state import State
from services.errors import ServiceError
from workflows.codec import EncryptionCodec
from workflows.converter import keyring

PREFIX = "/codec"
_ALLOW_HEADERS = "authorization, content-type, x-namespace"


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
    return await require_operator(state, authorization)


router = APIRouter(prefix=PREFIX, tags=["operations"])


async def _payloads(request: Request) -> Payloads:
    try:
        return json_format.Parse(await request.body(), Payloads(), ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError, ValueError):
        raise ServiceError(400, "BAD_REQUEST", "请求内容不是有效的载荷列表", "payloads") from None


def _check_namespace(state_namespace: str, given: str | None) -> None:
    if given is not None and given != state_namespace:
        raise ServiceError(400, "BAD_REQUEST", "命名空间不正确", "X-Namespace")


NamespaceHeader = Annotated[str | None, Header(alias="X-Namespace")]


@router.post("/encode")
async def encode(
    request: Request,
    state: State,
    _: Annotated[str, Depends(codec_operator)],
    namespace: NamespaceHeader = None,
) -> Response:
    _check_namespace(state.settings.temporal_namespace, namespace)
    codec = EncryptionCodec(keyring(state.settings))
    out = Payloads(payloads=await codec.encode(list((await _payloads(request)).payloads)))
    return Response(json_format.MessageToJson(out), media_type="application/json")


@router.post("/decode")
async def decode(
    request: Request,
    state: State,
    _: Annotated[str, Depends(codec_operator)],
    namespace: NamespaceHeader = None,
) -> Response:
    _check_namespace(state.settings.temporal_namespace, namespace)
    codec = EncryptionCodec(keyring(state.settings))
    try:
        out = Payloads(payloads=await codec.decode(list((await _payloads(request)).payloads)))
    except ValueError:
        raise ServiceError(422, "UNDECODABLE", "载荷无法用现有密钥解密", "payloads") from None
    return Response(json_format.MessageToJson(out), media_type="application/json")


class CodecCorsMiddleware:
    """CORS for /codec only, for exactly one origin; answers the browser's preflight itself."""

    def __init__(self, app: ASGIApp, *, origin: str) -> None:
        self.app = app
        self.origin = origin.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers") or []}
        origin = headers.get(b"origin", b"").decode("latin-1")
        allowed = origin == self.origin
        cors = [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
        if scope.get("method") == "OPTIONS" and b"access-control-request-method" in headers:
            if not allowed:
                await error_response(403, "FORBIDDEN", "不允许的来源", None)(scope, receive, send)
                return
            preflight = Response(status_code=204)
            preflight.raw_headers.extend(cors)
            preflight.raw_headers.append((b"access-control-allow-methods", b"POST, OPTIONS"))
            preflight.raw_headers.append((b"access-control-allow-headers", _ALLOW_HEADERS.encode()))
            preflight.raw_headers.append((b"access-control-max-age", b"600"))
            await preflight(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if allowed and message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)
