"""The codec on its own listener (api/codec_server.py): in production the payer-facing app
serves no /codec, and the codec app serves it and nothing a payer could call."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import FastAPI

from api.app import create_app
from api.codec_server import create_codec_app
from storage.db import make_engine, make_sessionmaker
from tests.pg import fresh_databases
from tests.support import app_client
from tests.test_settings import _safe_production

TOKEN = "o" * 40  # _safe_production's operator token
UI_ORIGIN = "http://localhost:8080"


def paths(app: FastAPI) -> set[str]:
    """Every route the app serves (FastAPI's document lists them all, the codec's included)."""
    return set(app.openapi()["paths"])


def test_in_production_the_public_app_has_no_codec_and_the_codec_app_nothing_else() -> None:
    settings = _safe_production()
    public = paths(create_app(settings))
    assert "/api/v1/contributions" in public
    assert not any(path.startswith("/codec") for path in public)
    assert paths(create_codec_app(settings)) == {"/codec/encode", "/codec/decode", "/healthz"}


def test_outside_production_the_public_app_keeps_its_codec_for_make_dev() -> None:
    settings = _safe_production().model_copy(update={"env": "test"})
    assert {"/codec/encode", "/codec/decode"} <= paths(create_app(settings))


async def test_the_codec_app_round_trips_for_the_operator_and_refuses_others() -> None:
    settings = _safe_production(temporal_ui_url=UI_ORIGIN, **fresh_databases())
    engine = make_engine(settings.resolved_database_url)
    body: dict[str, Any] = {
        "payloads": [
            {
                "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                "data": base64.b64encode(b'"x"').decode(),
            }
        ]
    }
    operator = {"Authorization": f"Bearer {TOKEN}", "Origin": UI_ORIGIN}
    try:
        app = create_codec_app(settings, sessions=make_sessionmaker(engine))
        async with app_client(app) as http:
            encoded = await http.post("/codec/encode", json=body, headers=operator)
            assert encoded.status_code == 200, encoded.text
            assert encoded.headers["access-control-allow-origin"] == UI_ORIGIN
            decoded = await http.post("/codec/decode", json=encoded.json(), headers=operator)
            assert decoded.json() == body
            anonymous = await http.post("/codec/decode", json=body, headers={"Origin": UI_ORIGIN})
            assert anonymous.status_code == 401
            assert (await http.get("/docs")).status_code == 404
            assert (await http.get("/openapi.json")).status_code == 404
    finally:
        await engine.dispose()
