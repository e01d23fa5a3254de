"""Tests of the adapters package: interfaces, simulators, clock and errors."""
