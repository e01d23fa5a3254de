"""Reaching one contribution's workflow: its id, and how long an update may wait for it."""

from __future__ import annotations

from datetime import timedelta

# Updates wait for activities (closing an order, say): longer, still bounded.
UPDATE_TIMEOUT = timedelta(seconds=30)


def workflow_id(contribution_id: str) -> str:
    """`contribution-<id>`: random, no personal data."""
    return f"contribution-{contribution_id}"
