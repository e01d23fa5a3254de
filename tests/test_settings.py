"""Settings: where the databases are by default, and what production refuses."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from settings import APP_DATABASE, SIM_DATABASE, Settings


def test_by_default_the_app_uses_make_devs_local_postgres_and_the_simulators_a_database_beside_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHEBAO_DEV_POSTGRES_PORT", raising=False)
    settings = Settings()
    assert settings.resolved_database_url == (
        f"postgresql+asyncpg://postgres@127.0.0.1:54329/{APP_DATABASE}"
    )
    assert settings.resolved_sim_database_url == (
        f"postgresql+asyncpg://postgres@127.0.0.1:54329/{SIM_DATABASE}"
    )


def test_the_simulators_follow_the_app_to_its_server_unless_told_otherwise() -> None:
    url = "postgresql+asyncpg://shebao:secret@db.internal:5432/shebao"
    assert Settings(database_url=url).resolved_sim_database_url == (
        f"postgresql+asyncpg://shebao:secret@db.internal:5432/{SIM_DATABASE}"
    )
    own = "postgresql+asyncpg://sim@sim.internal/sim"
    assert Settings(database_url=url, sim_database_url=own).resolved_sim_database_url == own


def test_production_refuses_to_run_without_a_database_of_its_own() -> None:
    secrets: dict[str, Any] = {
        "operator_token": "op-" + "x" * 20,
        "payer_ref_key": "ref-" + "y" * 20,
        "codec_keys": f"p1:{base64.b64encode(os.urandom(32)).decode()}",
    }
    with pytest.raises(ValueError, match="SHEBAO_DATABASE_URL"):
        Settings(env="production", **secrets)
    url = "postgresql+asyncpg://shebao@db.internal/shebao"
    assert Settings(env="production", database_url=url, **secrets).database_url == url
