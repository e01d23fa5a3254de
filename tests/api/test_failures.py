"""When something breaks inside: 500 INTERNAL_ERROR with no details, and no personal data logged."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import WorkflowEnvironment

import storage.db
from api.app import create_app
from domain.identity import compose_resident_id
from settings import Settings
from storage.db import make_engine, make_sessionmaker
from tests.pg import fresh_databases
from tests.support import app_client


async def test_an_unexpected_failure_is_internal_error_without_details(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    postgres_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A database with no tables (never migrated): every route touching it fails unexpectedly.
    engine = make_engine(postgres_url)
    settings = Settings(env="test", data_dir=tmp_path, simulators=False, database_url=postgres_url)
    app = create_app(settings, client=dev_env.client, sessions=make_sessionmaker(engine))
    number = compose_resident_id("520102", date(1980, 4, 5), 321)
    try:
        async with app_client(app) as http:
            with caplog.at_level(logging.ERROR, logger="shebao.api"):
                r = await http.post(
                    "/api/v1/session",
                    json={"id_type": "resident_id", "id_number": number, "name": "张三"},
                )
            assert r.status_code == 500
            assert r.json() == {
                "code": "INTERNAL_ERROR",
                "message": "系统繁忙，请稍后再试",
                "field": None,
            }
            assert "ProgrammingError" in caplog.text
            assert number not in caplog.text and "张三" not in caplog.text
            # Simulator routes are not served when simulators are off.
            assert (await http.get("/sim/cashier/SB0000000001")).status_code == 404
    finally:
        await engine.dispose()


async def test_an_unreachable_database_answers_503_and_health_says_degraded(
    dev_env: WorkflowEnvironment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: the database is down or restarting; nothing can be written.
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/shebao"
    engine = make_engine(url)
    settings = Settings(env="test", data_dir=tmp_path, simulators=False, database_url=url)
    app = create_app(settings, client=dev_env.client, sessions=make_sessionmaker(engine))
    number = compose_resident_id("520102", date(1980, 4, 5), 321)
    try:
        async with app_client(app) as http:
            with caplog.at_level(logging.WARNING, logger="shebao.api"):
                r = await http.post(
                    "/api/v1/session",
                    json={"id_type": "resident_id", "id_number": number, "name": "张三"},
                )
            assert_busy(r)
            assert number not in caplog.text and "张三" not in caplog.text
            health = await http.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {
                "status": "degraded",
                "database": "unavailable",
                "temporal": "ok",
            }
    finally:
        await engine.dispose()


def assert_busy(r: httpx.Response) -> None:
    """503 with Retry-After: the client may try again shortly, and nothing was written."""
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "1"
    assert r.json() == {
        "code": "SERVICE_UNAVAILABLE",
        "message": "服务繁忙，请稍后再试",
        "field": None,
    }


async def test_a_busy_database_answers_503_with_retry_after_not_500(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another transaction holds the table past the lock timeout, as under heavy contention.
    monkeypatch.setattr(storage.db, "LOCK_TIMEOUT_MS", 300)
    settings = Settings(env="test", data_dir=tmp_path, simulators=False, **fresh_databases())
    engine = make_engine(settings.resolved_database_url)
    app = create_app(settings, client=dev_env.client, sessions=make_sessionmaker(engine))
    number = compose_resident_id("520102", date(1980, 4, 5), 321)
    holder = make_engine(settings.resolved_database_url)
    try:
        async with app_client(app) as http, holder.begin() as held:
            await held.execute(text("LOCK TABLE persons IN ACCESS EXCLUSIVE MODE"))
            r = await http.post(
                "/api/v1/operator/registrations",
                json={
                    "id_type": "resident_id",
                    "id_number": number,
                    "name": "张三",
                    "insurance": "pension",
                    "start_month": "2020-01",
                },
                headers={"Authorization": f"Bearer {settings.operator_token}"},
            )
        assert_busy(r)
    finally:
        await holder.dispose()
        await engine.dispose()


async def test_no_free_database_connection_answers_503_with_retry_after_not_500(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # One pooled connection, taken by another request for longer than the pool's timeout.
    settings = Settings(env="test", data_dir=tmp_path, simulators=False, **fresh_databases())
    engine = create_async_engine(
        settings.resolved_database_url, pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    app = create_app(settings, client=dev_env.client, sessions=make_sessionmaker(engine))
    number = compose_resident_id("520102", date(1980, 4, 5), 321)
    try:
        async with app_client(app) as http, engine.connect():
            r = await http.post(
                "/api/v1/session",
                json={"id_type": "resident_id", "id_number": number, "name": "张三"},
            )
        assert_busy(r)
    finally:
        await engine.dispose()
