"""Operators and security: encrypted history, codec endpoint, logs, metrics, limits, headers."""

from __future__ import annotations

import base64
import io
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from observability import log_startup, masked_handler
from settings import Settings
from storage.db import make_engine, make_sessionmaker, upgrade_database
from tests.api.conftest import OPERATOR_TOKEN, ApiStack
from tests.pg import fresh_databases
from tests.support import app_client, log_lines, steps_run
from workflows.codec import ENCODING
from workflows.contract import ContributionInput, workflow_id
from workflows.propagation import request_id_in

UI_ORIGIN = "http://localhost:8233"


async def _pay_to_completion(api: ApiStack, name: str) -> tuple[Any, str]:
    payer = await api.register(name)
    started = await api.quote_and_start(payer)
    await api.pay(started["payment"]["out_trade_no"])
    cid = started["contribution_id"]
    await api.wait_for(payer, cid, lambda v: v["status"] == "COMPLETED")
    return payer, cid


async def test_raw_history_is_opaque_without_the_codec_and_decodes_with_it(api: ApiStack) -> None:
    payer, cid = await _pay_to_completion(api, "欧阳㛃")
    config = api.env.client.service_client.config
    plain = await Client.connect(
        config.target_host,
        namespace=api.env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    raw = await plain.get_workflow_handle(workflow_id(cid)).fetch_history()
    text = raw.to_json()
    for secret in (payer.id_number, payer.name, payer.person_id, "openid"):
        assert secret not in text
    # What operators triage with, without the key: the summaries (no personal data in them).
    summary = raw.events[0].user_metadata.summary
    assert summary.metadata["encoding"] == b"json/plain"
    assert summary.data.decode().startswith('"pension ')
    step_summaries = {
        e.user_metadata.summary.data.decode()
        for e in raw.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert '"submit for posting"' in step_summaries
    # Local steps leave markers, whose step names are the SDK's own plain JSON.
    assert {"verify_and_reserve", "create_payment_order"} <= set(steps_run(raw))
    started = raw.events[0].workflow_execution_started_event_attributes
    [sealed] = started.input.payloads
    assert sealed.metadata["encoding"] == ENCODING
    assert payer.person_id.encode() not in sealed.data

    # The operators' client (the codec's converter) reads the same history back.
    decoded = await api.env.client.get_workflow_handle(workflow_id(cid)).fetch_history()
    payload = decoded.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    [inp] = await api.env.client.data_converter.decode([payload], [ContributionInput])
    assert inp.person_id == payer.person_id and inp.contribution_id == cid


async def test_logs_of_a_full_payment_hold_no_id_number_or_name(
    api: ApiStack, caplog: pytest.LogCaptureFixture
) -> None:
    # Raw records (before the masking filter) of the API and the in-process worker alike.
    stream = io.StringIO()
    masked = masked_handler("test")
    masked.setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger().addHandler(masked)
    try:
        with caplog.at_level(logging.INFO):
            payer, _ = await _pay_to_completion(api, "司马㛃")
    finally:
        logging.getLogger().removeHandler(masked)
    assert any("contribution" in r.name or "shebao" in r.name for r in caplog.records)
    for text in (caplog.text, stream.getvalue()):
        assert payer.id_number not in text
        assert payer.name not in text
    assert '"request_id"' in stream.getvalue()


async def test_codec_decode_refuses_without_the_operator_token(api: ApiStack) -> None:
    r = await api.http.post("/codec/decode", json={"payloads": []}, headers={"Origin": UI_ORIGIN})
    assert r.status_code == 401
    assert r.json()["code"] == "OPERATOR_UNAUTHORIZED"


async def test_codec_answers_the_ui_preflight_for_its_exact_origin_only(api: ApiStack) -> None:
    preflight = {
        "Origin": UI_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    r = await api.http.options("/codec/decode", headers=preflight)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "x-namespace" in r.headers["access-control-allow-headers"]
    other = await api.http.options(
        "/codec/decode", headers={**preflight, "Origin": "http://localhost:8234"}
    )
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers


async def test_codec_round_trip_for_the_operator_in_the_ui_protocol(api: ApiStack) -> None:
    data = base64.b64encode(b'"hello"').decode()
    body = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                          "data": data}]}  # fmt: skip
    headers = {**api.operator, "Origin": UI_ORIGIN, "X-Namespace": api.env.client.namespace}
    enc = await api.http.post("/codec/encode", json=body, headers=headers)
    assert enc.status_code == 200, enc.text
    assert enc.headers["access-control-allow-origin"] == UI_ORIGIN
    sealed = enc.json()["payloads"][0]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    assert sealed["data"] != data
    dec = await api.http.post("/codec/decode", json=enc.json(), headers=headers)
    assert dec.status_code == 200
    assert dec.json() == body
    wrong_ns = await api.http.post(
        "/codec/decode", json=body, headers={**headers, "X-Namespace": "other"}
    )
    assert wrong_ns.status_code == 400 and wrong_ns.json()["field"] == "X-Namespace"
    junk = await api.http.post("/codec/decode", content=b"[1,", headers=headers)
    assert junk.status_code == 400 and junk.json()["code"] == "BAD_REQUEST"


async def test_every_operator_route_refuses_without_the_token(api: ApiStack) -> None:
    app = api.http._transport.app  # type: ignore[attr-defined]
    paths: dict[str, set[str]] = {
        path: {m.upper() for m in ops}
        for path, ops in app.openapi()["paths"].items()
        if path.startswith(("/api/v1/operator", "/codec"))
    }
    paths["/metrics"] = {"GET"}
    checked = 0
    for path, methods in paths.items():
        url = path.replace("{year}", "2026")
        for part in ("{contribution_id}", "{reconciliation_id}", "{id}", "{bill_date}"):
            url = url.replace(part, "x")
        for method in methods:
            r = await api.http.request(method, url, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            checked += 1
    assert checked >= 7


async def test_metrics_expose_requests_latency_and_contributions_by_status(api: ApiStack) -> None:
    await _pay_to_completion(api, "令狐冲")
    assert (await api.http.get("/metrics")).status_code == 401
    r = await api.http.get("/metrics", headers=api.operator)
    assert r.status_code == 200
    text = r.text
    assert 'shebao_http_requests_total{method="POST",route="/api/v1/session",status="200"}' in text
    assert "shebao_http_request_duration_seconds_bucket" in text
    completed = next(
        line
        for line in text.splitlines()
        if line.startswith('shebao_contributions{status="COMPLETED"}')
    )
    assert float(completed.split()[-1]) >= 1


async def test_security_headers_and_request_id_on_answers_and_errors(api: ApiStack) -> None:
    for r in (
        await api.http.get("/healthz", headers={"X-Request-ID": "trace-123"}),
        await api.http.get("/api/v1/contributions/nope"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "strict-transport-security" not in r.headers  # not production
    ok = await api.http.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert ok.headers["x-request-id"] == "trace-123"
    forged = await api.http.get("/healthz", headers={"X-Request-ID": "a b\tc" * 30})
    assert forged.headers["x-request-id"] != "a b\tc" * 30
    # An id that looks like an ID number would travel on into Temporal's unencrypted headers.
    personal = await api.http.get("/healthz", headers={"X-Request-ID": "req-520102198805170311"})
    assert personal.headers["x-request-id"] != "req-520102198805170311"


async def test_the_request_id_follows_a_start_into_the_workflow_and_its_activities(
    api: ApiStack,
) -> None:
    rid = "req-follow-0001"
    payer = await api.register("令狐㛃")
    q = await api.quote(payer)
    assert q.status_code == 201, q.text
    with log_lines() as lines:
        r = await api.http.post(
            "/api/v1/contributions",
            json={"quote_id": q.json()["quote_id"], "channel": "wechat_balance"},
            headers={**payer.auth, "Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": rid},
        )
        assert r.status_code == 201, r.text
        started = r.json()
        cid = started["contribution_id"]
        await api.pay(started["payment"]["out_trade_no"])
        await api.wait_for(payer, cid, lambda v: v["status"] == "COMPLETED")

    history = await api.env.client.get_workflow_handle(workflow_id(cid)).fetch_history()
    header = history.events[0].workflow_execution_started_event_attributes.header.fields
    assert request_id_in(header) == rid
    # The worker's lines for this contribution, made by the activities the run started.
    steps = [
        line for line in lines if line["logger"] == "activities.contribution" and cid in line["msg"]
    ]
    assert [line["msg"].split(": ")[1] for line in steps] == [
        f"payment order {started['payment']['out_trade_no']} created",
        f"payment {started['payment']['out_trade_no']} recorded",
    ]
    assert {line["request_id"] for line in steps} == {rid}


@pytest_asyncio.fixture(loop_scope="session")
async def limited(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the default limits, in dev with the UI origin trusted by the codec."""
    settings = Settings(
        env="dev",
        data_dir=tmp_path,
        simulators=False,
        codec_trust_ui_origin=True,
        operator_token=OPERATOR_TOKEN,
        **fresh_databases(),
    )
    await upgrade_database(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    app = create_app(settings, client=dev_env.client, sessions=make_sessionmaker(engine))
    try:
        async with app_client(app) as http:
            yield http
    finally:
        await engine.dispose()


async def test_dev_codec_trusts_the_exact_ui_origin_only(limited: httpx.AsyncClient) -> None:
    body: dict[str, Any] = {"payloads": []}
    assert (
        await limited.post("/codec/decode", json=body, headers={"Origin": UI_ORIGIN})
    ).json() == {}
    other = await limited.post("/codec/decode", json=body, headers={"Origin": "http://evil.test"})
    assert other.status_code == 401
    assert (await limited.post("/codec/decode", json=body)).status_code == 401


def test_settings_repr_and_startup_log_hold_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    secrets: dict[str, Any] = {
        "operator_token": f"op-{uuid.uuid4().hex}",
        "payer_ref_key": f"ref-{uuid.uuid4().hex}",
        "codec_keys": f"k1:{base64.b64encode(uuid.uuid4().bytes * 2).decode()}",
    }
    settings = Settings(env="test", **secrets)
    with caplog.at_level(logging.INFO):
        log_startup("api", settings)
    assert "starting with" in caplog.text
    for value in secrets.values():
        assert value not in repr(settings)
        assert value not in caplog.text
        assert value.split(":")[-1] not in caplog.text
