"""The error envelope: every 4xx/5xx body is {"code", "message", "field"} (plus contract extras)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import DomainError
from services.errors import INTERNAL_MESSAGE, ServiceError, domain_error, log_unexpected
from storage.db import is_transient

log = logging.getLogger("shebao.api")

BUSY_CODE = "SERVICE_UNAVAILABLE"
BUSY_MESSAGE = "服务繁忙，请稍后再试"
BUSY_RETRY_AFTER_S = 1

_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "请求格式不正确"),
    401: ("UNAUTHENTICATED", "请先登录"),
    403: ("FORBIDDEN", "无权访问"),
    404: ("NOT_FOUND", "请求的资源不存在"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    406: ("NOT_ACCEPTABLE", "不支持的响应格式"),
    413: ("PAYLOAD_TOO_LARGE", "请求内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的请求内容类型"),
    429: ("TOO_MANY_REQUESTS", "请求过于频繁，请稍后再试"),
}

# Pydantic error types → a Chinese message a payer can act on (never the offending input).
_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "包含不支持的参数",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "too_long": "项目过多",
    "too_short": "项目过少",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
}
_DEFAULT_VALIDATION_MESSAGE = "参数格式不正确"


CODE_PATTERN = r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"


class ErrorEnvelope(BaseModel):
    """Every 4xx/5xx body: a stable code, a Chinese message, the offending field; some codes
    carry extras (MONTH_IN_FLIGHT: contribution_id; NOT_YET_IN_TREASURY: expected_date)."""

    # api/errors.py builds every error body with it, so the document and the answers agree.
    model_config = ConfigDict(extra="allow")

    # The pattern is documented, not enforced: a code the pattern missed must still answer.
    code: str = Field(
        description="stable code, UPPER_SNAKE", json_schema_extra={"pattern": CODE_PATTERN}
    )
    message: str = Field(description="中文, for the user; never quotes the input")
    field: str | None = Field(description="the offending field, or null")


def error_response(
    status_code: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The envelope as a response."""
    body = ErrorEnvelope(code=code, message=message, field=field, **extra).model_dump()
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def _field_of(loc: Sequence[int | str]) -> str | None:
    """The bad field's name: the location without its source ("body", ...) and list indices."""
    parts = list(loc[1:] if loc and loc[0] in _SOURCES else loc)
    return ".".join(p for p in parts if isinstance(p, str)) or None


def validation_error(exc: RequestValidationError) -> ServiceError:
    """First error of a request validation failure → VALIDATION_ERROR / INVALID_JSON."""
    errors = exc.errors()
    first: Mapping[str, Any] = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return invalid_json()
    loc = first.get("loc", ())
    field = _field_of(loc)
    if kind == "model_attributes_type" and field is None:
        return ServiceError(422, "VALIDATION_ERROR", "请求内容应为JSON对象", None)
    message = _VALIDATION_MESSAGES.get(kind, _DEFAULT_VALIDATION_MESSAGE)
    return ServiceError(422, "VALIDATION_ERROR", message, field)


class BodyTooLarge(Exception):
    """Raised while a body without Content-Length is read past the limit (api/middleware/limits)."""


def invalid_json() -> ServiceError:
    return ServiceError(400, "INVALID_JSON", "请求内容不是有效的JSON", None)


def _http_error(exc: StarletteHTTPException) -> JSONResponse:
    # FastAPI answers 400 for any failure while reading or parsing a body, the cause chained:
    # a body nested too deeply for the parser (RecursionError), bytes that are not text, or
    # our own size limit hit mid-stream.
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, BodyTooLarge):
        return error_response(413, *_HTTP_CODES[413], None)
    if exc.status_code == 400 and cause is not None:
        return envelope(invalid_json())
    code, message = _HTTP_CODES.get(exc.status_code, ("HTTP_ERROR", "请求失败"))
    if exc.status_code >= 500:
        code, message = "INTERNAL_ERROR", INTERNAL_MESSAGE
    return error_response(exc.status_code, code, message, None, headers=exc.headers)


def envelope(err: ServiceError) -> JSONResponse:
    """A service's error as the envelope, with the status it hints (and Retry-After when the
    error says when to retry)."""
    retry = err.details.get("retry_after_s")
    headers = {"Retry-After": str(retry)} if isinstance(retry, int) else None
    return error_response(
        err.status_code, err.code, err.message, err.field, headers=headers, **err.details
    )


async def _on_service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return envelope(exc)


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return envelope(domain_error(exc))


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return envelope(validation_error(exc))


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _http_error(exc)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database unreachable, busy or restarting: 503, retry; any other failure: 500.

    The transaction was rolled back, so nothing was half-written: a transient 503 with
    Retry-After lets the client retry (with the same Idempotency-Key for a start). The driver's
    message is never logged: it may quote the statement's input.
    """
    assert isinstance(exc, DBAPIError)
    where = f"{request.method} {request.url.path}"
    if is_transient(exc):
        log.warning("database busy or unreachable in %s (%s)", where, type(exc).__name__)
        return _busy()
    log_unexpected(exc, where)
    return error_response(500, "INTERNAL_ERROR", INTERNAL_MESSAGE, None)


async def _on_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    """Every pooled database connection stayed in use for pool_timeout (load): 503, retry.

    No connection was had, so no transaction began and nothing was written.
    """
    assert isinstance(exc, PoolTimeoutError)
    log.warning("no database connection free in %s %s", request.method, request.url.path)
    return _busy()


async def _on_unreachable(request: Request, exc: Exception) -> JSONResponse:
    """A service we depend on refused or dropped the connection (the database restarting, say;
    the driver raises the socket's own error when it cannot connect): 503, retry.
    """
    assert isinstance(exc, ConnectionError)
    log.warning("%s in %s %s", type(exc).__name__, request.method, request.url.path)
    return _busy()


def _busy() -> JSONResponse:
    return error_response(
        503, BUSY_CODE, BUSY_MESSAGE, None, headers={"Retry-After": str(BUSY_RETRY_AFTER_S)}
    )


class CatchAllMiddleware:
    """Turns any exception that escaped the handlers into 500 INTERNAL_ERROR, without details."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log_unexpected(exc, f"{scope.get('method')} {scope.get('path')}")
            if started:
                # Too late for an envelope; the server closes the connection.
                raise
            response = error_response(500, "INTERNAL_ERROR", INTERNAL_MESSAGE, None)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error source to the envelope."""
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(PoolTimeoutError, _on_pool_timeout)
    app.add_exception_handler(ConnectionError, _on_unreachable)
    app.add_middleware(CatchAllMiddleware)
