"""Helpers shared by the test stacks: today's date, a policy open all year, the steps a run took,
uvicorn serving an app on a socket, the log lines a process writes, what Temporal UI reads without
the codec key."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from fastapi import FastAPI
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.months import Month
from domain.policy import PolicyBook
from domain.vocabulary import Insurance
from observability import masked_handler
from workflows.cleartext import CLEAR_MARK

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(SHANGHAI).date()


def this_month() -> str:
    return str(Month.from_date(today()))


async def open_policy_all_year(http: httpx.AsyncClient, operator_token: str) -> None:
    """Tests run on whatever today is: this year's policy, open until 31 December."""
    year = today().year
    book = PolicyBook.from_file()
    template = book.get(year) or book.for_year(max(book.years()))
    doc = template.model_copy(
        update={"year": year, "cutoff_date": date(year, 12, 31), "provisional": True}
    ).model_dump(mode="json")
    await put_policy(http, operator_token, doc)


async def put_policy(http: httpx.AsyncClient, operator_token: str, doc: dict[str, Any]) -> None:
    """Load a policy document through the operator route (its year and insurance say where)."""
    r = await http.put(
        f"/api/v1/operator/policies/{doc['year']}",
        json=doc,
        headers={"Authorization": f"Bearer {operator_token}"},
    )
    assert r.status_code == 200, r.text


async def open_resident_medical_now(http: httpx.AsyncClient, operator_token: str) -> int:
    """Next year's 城乡居民医保, collected all through this year (tests run on any day); returns
    the coverage year."""
    year = today().year + 1
    template = PolicyBook.from_file().medical(
        max(PolicyBook.from_file().years(Insurance.RESIDENT_MEDICAL))
    )
    doc = template.model_copy(
        update={
            "year": year,
            "collection_start": date(year - 1, 1, 1),
            "collection_end": date(year - 1, 12, 31),
        }
    ).model_dump(mode="json")
    await put_policy(http, operator_token, doc)
    return year


def steps_run(history: WorkflowHistory) -> list[str]:
    """Every step the workflow ran, in order: ordinary activities and local-activity markers."""
    steps: list[str] = []
    for e in history.events:
        if e.HasField("activity_task_scheduled_event_attributes"):
            steps.append(e.activity_task_scheduled_event_attributes.activity_type.name)
        elif e.HasField("marker_recorded_event_attributes"):
            marker = e.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                # The marker's "data" payload is the SDK's own plain JSON, never encrypted.
                data = json.loads(marker.details["data"].payloads[0].data)
                if data["attempt"] and data["activity_type"]:
                    steps.append(data["activity_type"])
    return steps


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (its lifespan run) and a client calling it in-process."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http


@asynccontextmanager
async def served(app: FastAPI, sock: socket.socket, **config: Any) -> AsyncIterator[None]:
    """uvicorn serving the app on the bound socket until the block ends; the app's lifespan
    is the caller's to enter (uvicorn runs without one), as production's is."""
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", **config))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()  # re-raises why uvicorn stopped
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        await serving


@contextmanager
def log_lines(level: int = logging.INFO) -> Iterator[list[dict[str, Any]]]:
    """The JSON lines the process's masked handler writes meanwhile (API and worker alike),
    parsed into the list when the block ends."""
    stream = io.StringIO()
    handler = masked_handler("test")
    handler.setStream(stream)  # type: ignore[attr-defined]
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def without_key(client: Client) -> Client:
    """The client over the same connection as Temporal UI is without the codec endpoint:
    pydantic JSON, no decryption."""
    return Client(
        client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter
    )


async def current_details(client: Client, workflow_id: str) -> str:
    """What Temporal UI shows as a workflow's Current Details, read without the key."""
    handle = without_key(client).get_workflow_handle(workflow_id)
    metadata: WorkflowMetadata = await handle.query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    return str(metadata.current_details)


def clear_summary(payload: Payload) -> str:
    """A summary as Temporal UI shows it without the key: marked clear, plain JSON text."""
    assert payload.metadata[CLEAR_MARK] == b"1"
    assert payload.metadata["encoding"] == b"json/plain"
    text = pydantic_data_converter.payload_converter.from_payload(payload, str)
    assert isinstance(text, str)
    return text
