"""Fuzzing: schemathesis-generated requests on every route of /openapi.json, in-process; every
answer must be one the document declares (status, content type, body schema)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
import schemathesis.specs.openapi.schemas  # loaded early: see below
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ApiStack

# schemathesis.openapi.from_dict imports its schema classes on first use, and pytest rewrites
# schemathesis's modules (it is a pytest plugin) with ast.parse. Done here, at collection, that
# happens before the app and the worker start their threads: CPython 3.11 can fail an AST
# conversion spuriously in a threaded program ("AST constructor recursion depth mismatch",
# python/cpython#106905), as this test did once inside `make test`.

pytestmark = pytest.mark.devserver

# Bounded: ~40 operations x 2 identities x 2 modes x this many cases.
CASES_PER_OPERATION = 10
NOTIFY_PATH = "/api/v1/payments/{provider}/notify"
SESSION_PATH = "/api/v1/session"
# An undocumented status, another content type or a body off its schema (the error envelope
# for every 4xx/5xx) fails the run: the document is what clients are told.
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


def conformance_problems(case: Any, response: httpx.Response) -> list[str]:
    """What schemathesis finds wrong with the answer against the operation's document."""
    try:
        case.validate_response(response, checks=CONFORMANCE)
    except FailureGroup as group:
        return [f"{f.title}: {' '.join(f.message.split())[:300]}" for f in group.exceptions]
    return []


def envelope_problem(path: str, response: httpx.Response) -> str | None:
    """Why an error response is not the {code, message, field} envelope, or None if it is."""
    try:
        body = response.json()
    except ValueError:
        return f"error body is not JSON: {response.text[:120]!r}"
    if not isinstance(body, dict):
        return f"error body is not an object: {body!r:.120}"
    if path == NOTIFY_PATH:
        # WeChat Pay's own failure answer, which its servers read (every provider gets it).
        ok = body.get("code") == "FAIL" and isinstance(body.get("message"), str)
        return None if ok else f"notify error is not WeChat's FAIL answer: {body!r:.120}"
    if not isinstance(body.get("code"), str) or not isinstance(body.get("message"), str):
        return f"error body lacks code/message: {body!r:.120}"
    if "field" not in body or not isinstance(body["field"], str | None):
        return f"error body lacks field: {body!r:.120}"
    return None


def request_kwargs(case: Any, identity: dict[str, str]) -> dict[str, Any]:
    """The generated request as httpx arguments, with the chosen credentials laid on top."""
    raw = case.as_transport_kwargs(base_url="http://testserver")
    headers = {str(k): str(v) for k, v in (raw.get("headers") or {}).items()}
    # The fuzzer's own User-Agent etc. stay; its Authorization is replaced when we pick one.
    if identity:
        headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        headers.update(identity)
    kwargs: dict[str, Any] = {
        "method": raw["method"],
        "url": raw["url"],
        "headers": headers,
        "params": raw.get("params"),
    }
    if raw.get("cookies"):
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in raw["cookies"].items())
    if "json" in raw:
        kwargs["content"] = json.dumps(raw["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "data" in raw:
        data = raw["data"]
        if isinstance(data, bytes | str):
            kwargs["content"] = data
        else:
            kwargs["data"] = data
    if raw.get("files"):
        kwargs["files"] = raw["files"]
    return kwargs


def credentials_for(path: str, stack: ApiStack, payer_auth: dict[str, str]) -> dict[str, str]:
    """The token a route wants: the operator's for operator and codec routes, else the payer's."""
    if path.startswith(("/api/v1/operator", "/codec")):
        return stack.operator
    return payer_auth


async def test_no_route_answers_5xx_or_off_its_document(api: ApiStack) -> None:
    payer = await api.register()
    # Something real for the authenticated half of the cases to find: a live contribution.
    started = await api.quote_and_start(payer)
    known_ids = {
        "contribution_id": started["contribution_id"],
        "payer_ref": "me",
        "out_trade_no": started["payment"]["out_trade_no"],
    }
    doc = (await api.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(doc)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results)  # the app's schema loads without errors
    assert len(operations) >= 20  # every router is in the schema
    # Signing out revokes the token the signed-in cases of every later operation send.
    operations.sort(key=lambda op: (op.method.upper(), op.path) == ("DELETE", SESSION_PATH))
    loop = asyncio.get_running_loop()
    problems: list[str] = []
    statuses: Counter[int] = Counter()

    def send(kwargs: dict[str, Any]) -> httpx.Response:
        # The app, its database engine and the Temporal client live on the test's event loop.
        future = asyncio.run_coroutine_threadsafe(api.http.request(**kwargs), loop)
        return future.result(timeout=30)

    def fuzz(operation: Any, mode: GenerationMode, identity: dict[str, str]) -> None:
        # Signed in, path parameters name things that exist, so cases reach the handlers.
        fixed = None
        if identity:
            names = {p.name for p in operation.path_parameters}
            fixed = {k: v for k, v in known_ids.items() if k in names} or None

        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        def one(case: Any) -> None:
            kwargs = request_kwargs(case, identity)
            response = send(kwargs)
            statuses[response.status_code] += 1
            who = "signed in" if identity else "anonymous"
            label = f"{kwargs['method']} {operation.path} ({mode.value}, {who})"
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code} {response.text[:200]!r}")
            elif response.status_code >= 400:
                problem = envelope_problem(operation.path, response)
                if problem is not None:
                    problems.append(f"{label}: {response.status_code} {problem}")
            for problem in conformance_problems(case, response):
                problems.append(f"{label}: {response.status_code} {problem}")

        try:
            one()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): negative mode has no cases.
            if mode is not GenerationMode.NEGATIVE:
                raise

    def fuzz_all() -> None:
        for operation in operations:
            for identity in ({}, credentials_for(operation.path, api, payer.auth)):
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    fuzz(operation, mode, identity)

    await asyncio.to_thread(fuzz_all)
    assert not problems, "\n".join(sorted(set(problems))[:40])
    # The run reached past validation and auth: some cases succeeded, many were refused.
    assert sum(n for status, n in statuses.items() if status < 300) >= 20, statuses
    assert statuses[401] > 0 and statuses[422] > 0, statuses
