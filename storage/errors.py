"""Exceptions the repositories raise; messages carry ids only, never personal data."""

from __future__ import annotations


class NotFound(LookupError):
    """A row the caller expected to exist is missing."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} not found: {key}")
        self.kind = kind
        self.key = key


class Conflict(Exception):
    """A write collided with existing data in a way retrying cannot fix."""
