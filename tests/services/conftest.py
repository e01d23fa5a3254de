"""Service tests run on a freshly migrated PostgreSQL database per test, as storage's do."""

from __future__ import annotations

from tests.storage.conftest import db_url, engine, sessionmaker

# The storage tests' fixtures, used by name.
__all__ = ["db_url", "engine", "sessionmaker"]
