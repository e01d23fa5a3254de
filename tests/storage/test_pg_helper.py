"""tests/pg.py: missing PostgreSQL binaries skip locally but fail under CI."""

from __future__ import annotations

import pytest

from tests import pg


def _no_binaries() -> pg.PostgresServer:
    raise pg.PostgresUnavailable("PostgreSQL server binaries not found")


def test_missing_postgres_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(pg, "shared_postgres", _no_binaries)
    with pytest.raises(pytest.skip.Exception, match="not available"):
        pg.shared_postgres_or_skip()


def test_missing_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(pg, "shared_postgres", _no_binaries)
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        pg.shared_postgres_or_skip()


def test_the_shared_server_hands_out_fresh_databases(postgres_server: pg.PostgresServer) -> None:
    first, second = postgres_server.create_database(), postgres_server.create_database()
    assert first != second
    names = postgres_server.psql("SELECT datname FROM pg_database").split()
    assert {first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]} <= set(names)
    postgres_server.drop_database(first)
    postgres_server.drop_database(second)
