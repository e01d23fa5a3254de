"""Tests of the service layer (use cases over storage, Temporal and adapters)."""
