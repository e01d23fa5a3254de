"""Fixtures for script tests: the audit reads a freshly migrated database (tests/storage/)."""

from tests.storage.conftest import db_url, engine, sessionmaker

__all__ = ["db_url", "engine", "sessionmaker"]
