"""Temporal activities: small idempotent steps that call storage and adapters."""
