"""Fixtures for adapter tests: the real adapters run against the simulators (tests/simulators/)."""

from tests.simulators.fixtures import clock, config, engine, make_order, payments, sim_url

__all__ = ["clock", "config", "engine", "make_order", "payments", "sim_url"]
