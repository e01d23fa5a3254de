"""Fixtures for simulator tests (tests/simulators/fixtures.py)."""

from tests.simulators.fixtures import clock, config, engine, make_order, payments, sim_url

__all__ = ["clock", "config", "engine", "make_order", "payments", "sim_url"]
