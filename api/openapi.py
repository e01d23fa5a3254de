"""What the OpenAPI document says beyond the routes: tags, operation ids, the error answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute

from api.errors import ErrorEnvelope

# One tag per area of docs/api.md, in the order a reader meets them.
TAGS: list[dict[str, str]] = [
    {"name": "sessions", "description": "用户认证: sign in with the identity trio, sign out."},
    {"name": "wechat", "description": "Inside WeChat: silent sign-in by openid, the binding."},
    {"name": "captcha", "description": "Captcha images for sign-in and the certificate query."},
    {"name": "payers", "description": "代他人缴费 look-up and what a payer may pay (options)."},
    {"name": "quotes", "description": "应缴费额确认: the priced months a start refers to."},
    {"name": "contributions", "description": "Start (idempotent), status, cancel before payment."},
    {"name": "records", "description": "社保费申报查询: one's own or another person's months."},
    {"name": "certificates", "description": "完税证明: issue, the PDF, public verification."},
    {"name": "messages", "description": "我的消息 and the reminder setting."},
    {"name": "payments", "description": "Payment providers' callbacks (WeChat Pay v3 notify)."},
    {"name": "operator", "description": "参保登记, triage, manual review, policies, calendars."},
    {"name": "reconciliation", "description": "对账: daily reports, a run now, the review queue."},
    {"name": "codec", "description": "Temporal payload codec for Temporal UI and CLI."},
    {"name": "health", "description": "Liveness and dependencies (database, Temporal)."},
]

# Answers any operation can give: a malformed request or Content-Length, a body over the limit,
# an unexpected failure, the database or Temporal busy or away (Retry-After).
COMMON_ERRORS: tuple[tuple[int, str], ...] = (
    (400, "BAD_REQUEST"),
    (400, "INVALID_JSON"),
    (413, "PAYLOAD_TOO_LARGE"),
    (500, "INTERNAL_ERROR"),
    (503, "SERVICE_UNAVAILABLE"),
)
VALIDATION = (422, "VALIDATION_ERROR")
SIGNED_IN = (401, "UNAUTHENTICATED")
RATE_LIMITED = (429, "RATE_LIMITED")
OPERATOR = ((401, "OPERATOR_UNAUTHORIZED"), (429, "OPERATOR_THROTTLED"))
# The identity trio (sign-in, look-up, another person's records) answers these on top.
IDENTITY = (
    (422, "INVALID_ID_NUMBER"),
    (422, "INVALID_ID_TYPE"),
    (422, "INVALID_NAME"),
    (422, "CAPTCHA_INVALID"),
    (401, "IDENTITY_MISMATCH"),
    (428, "CAPTCHA_REQUIRED"),
)


def errors(*answers: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for these (status, code) answers and the common ones, each status the error
    envelope with its stable codes listed."""
    codes: dict[int, list[str]] = {}
    for status, code in (*answers, *COMMON_ERRORS):
        listed = codes.setdefault(status, [])
        if code not in listed:
            listed.append(code)
    return {status: _answer(status, found) for status, found in sorted(codes.items())}


# Throttles and a busy database say when to come back (api/errors.py envelope()).
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before retrying, when known",
        "schema": {"type": "integer"},
    }
}


def _answer(status: int, listed: Iterable[str]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "model": ErrorEnvelope,
        "description": "code: " + ", ".join(f"`{c}`" for c in listed),
    }
    if status in (429, 503):
        answer["headers"] = _RETRY_AFTER
    return answer


def operation_id(route: APIRoute) -> str:
    """`<tag>_<handler>` (the handler's name alone when it starts with its tag): readable, and
    unique because each handler is named within its area (tests/api/test_openapi.py)."""
    tag = str(route.tags[0]) if route.tags else ""
    return route.name if route.name.startswith(tag) else f"{tag}_{route.name}"
