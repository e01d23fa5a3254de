"""Bad input on every route gets the error envelope with a 4xx code, never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.conftest import ApiStack
from workflows.contract import ReviewAction

HUGE = "你" * 100_000

# Bodies that are wrong in every way a client can be wrong.
GARBAGE: dict[str, Any] = {
    "not_json": b"{this is: not json",
    "json_array": [1, 2, 3],
    "json_string": "hello",
    "empty_object": {},
    "wrong_types": {
        "id_type": 1,
        "id_number": ["x"],
        "name": {"a": 1},
        "payer_ref": 5,
        "insurance": 3,
        "months": "2026-01",
        "back_payment": "maybe",
        "grade": "sixty",
        "quote_id": 7,
        "channel": [],
        "start_month": 202601,
        "action": 1,
        "note": None,
        "outcome": True,
        "method": 2,
    },
    "unknown_enums": {
        "id_type": "dragon_card",
        "id_number": "520102198501010000",
        "name": "张三",
        "payer_ref": "me",
        "insurance": "lottery",
        "months": ["2026-01"],
        "grade": 60,
        "quote_id": "q_x",
        "channel": "alipay",
        "start_month": "2026-01",
        "action": "burn",
        "note": "n",
        "outcome": "maybe",
        "method": "cash",
    },
    "huge_strings": {
        "id_type": "resident_id",
        "id_number": HUGE,
        "name": HUGE,
        "payer_ref": HUGE,
        "insurance": "pension",
        "months": [HUGE],
        "grade": 60,
        "quote_id": HUGE,
        "channel": "wechat_balance",
        "start_month": HUGE,
        "action": ReviewAction.RETRY_REFUND,
        "note": HUGE,
        "outcome": "success",
    },
    "bad_values": {
        "id_type": "resident_id",
        "id_number": "123",
        "name": "!!!",
        "payer_ref": "p_nobody",
        "insurance": "pension",
        "months": ["2026-02", "2026-01", "2026-01", "26-1"],
        "back_payment": False,
        "grade": -1,
        "quote_id": "",
        "channel": "bank_card",
        "start_month": "2026-00",
        "action": ReviewAction.RETRY_REFUND,
        "note": "",
        "outcome": "success",
    },
}

# (method, path, who): who is "payer", "operator" or None.
ROUTES = [
    ("POST", "/api/v1/session", None),
    ("POST", "/api/v1/payers/lookup", "payer"),
    ("GET", "/api/v1/payers/{junk}/options", "payer"),
    ("POST", "/api/v1/quotes", "payer"),
    ("POST", "/api/v1/contributions", "payer"),
    ("GET", "/api/v1/contributions/{junk}", "payer"),
    ("POST", "/api/v1/contributions/{junk}/cancel", "payer"),
    ("POST", "/api/v1/operator/registrations", "operator"),
    ("GET", "/api/v1/operator/contributions?status={junk}&month={junk}", "operator"),
    ("GET", "/api/v1/operator/contributions?limit=-5", "operator"),
    ("POST", "/api/v1/operator/contributions/{junk}/resolve", "operator"),
    ("PUT", "/api/v1/operator/policies/{junk}", "operator"),
    ("PUT", "/api/v1/operator/policies/2026", "operator"),
    ("GET", "/sim/cashier/{junk}", None),
    ("POST", "/sim/cashier/{junk}/pay", None),
    ("GET", "/healthz?x={junk}", None),
    ("GET", "/api/v1/no/such/route", None),
    ("DELETE", "/api/v1/session", None),
]

JUNK = ["x", "%E4%BD%A0" * 300, "..%2F..%2Fetc", "0" * 5000]

CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def _assert_envelope(status: int, body: Any, context: object) -> None:
    assert 400 <= status < 500, context
    assert isinstance(body, dict), context
    assert {"code", "message", "field"} <= body.keys(), context
    assert CODE.fullmatch(body["code"]), context
    assert isinstance(body["message"], str) and body["message"], context
    assert body["field"] is None or isinstance(body["field"], str), context
    assert HUGE[:100] not in str(body), context


@pytest.mark.parametrize(("method", "path", "who"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_bad_input_on_every_route_gets_the_envelope(
    api: ApiStack, method: str, path: str, who: str | None
) -> None:
    headers: dict[str, str] = {"Idempotency-Key": "bad-input-key"}
    if who == "payer":
        headers.update((await api.register()).auth)
    elif who == "operator":
        headers.update(api.operator)
    for junk in JUNK:
        url = path.format(junk=junk)
        for name, payload in GARBAGE.items():
            if isinstance(payload, bytes):
                kwargs: dict[str, Any] = {
                    "content": payload,
                    "headers": {**headers, "Content-Type": "application/json"},
                }
            else:
                kwargs = {"json": payload, "headers": headers}
            r = await api.http.request(method, url, **kwargs)
            if r.status_code < 400:
                continue  # e.g. GET routes that ignore a body: nothing was wrong for them
            _assert_envelope(r.status_code, r.json(), (method, url[:80], name, r.text[:300]))


async def test_malformed_json_is_invalid_json(api: ApiStack) -> None:
    r = await api.http.post(
        "/api/v1/session", content=b'{"id_type": ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "INVALID_JSON"


async def test_json_nested_too_deeply_or_not_text_is_invalid_json_never_a_500(
    api: ApiStack,
) -> None:
    payer = await api.register()
    bodies = [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"id_type": "\xff\xfe"}',
        b"\xff\xfe{}",
    ]
    for body in bodies:
        for path in ("/api/v1/session", "/api/v1/quotes", "/api/v1/records/query"):
            r = await api.http.post(
                path, content=body, headers={**payer.auth, "Content-Type": "application/json"}
            )
            assert (r.status_code, r.json()["code"]) == (400, "INVALID_JSON"), (path, r.text)


async def test_a_streamed_body_over_the_limit_is_payload_too_large(api: ApiStack) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(3):
            yield b"a" * (1 << 20)
        yield b'"}'

    r = await api.http.post(
        "/api/v1/session", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


async def test_a_missing_field_is_a_validation_error_naming_it(api: ApiStack) -> None:
    r = await api.http.post("/api/v1/session", json={"id_type": "resident_id", "name": "张三"})
    assert r.status_code == 422
    assert r.json() == {"code": "VALIDATION_ERROR", "message": "缺少必填项", "field": "id_number"}


async def test_a_wrong_type_is_a_validation_error_naming_the_field(api: ApiStack) -> None:
    payer = await api.register()
    r = await api.http.post(
        "/api/v1/quotes",
        json={"months": ["2026-01"], "grade": "sixty"},
        headers=payer.auth,
    )
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == ("VALIDATION_ERROR", "grade")


async def test_unknown_route_and_wrong_method_wear_the_envelope(api: ApiStack) -> None:
    r = await api.http.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"code": "NOT_FOUND", "message": "请求的资源不存在", "field": None}
    r = await api.http.get("/api/v1/session")
    assert r.status_code == 405
    assert r.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_a_body_over_one_mebibyte_is_payload_too_large(api: ApiStack) -> None:
    r = await api.http.post(
        "/api/v1/session",
        content=b'{"name": "' + b"a" * (2 << 20) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json() == {"code": "PAYLOAD_TOO_LARGE", "message": "请求内容过大", "field": None}
