"""Reaching one contribution's workflow: how long an update may wait for it."""

from __future__ import annotations

from datetime import timedelta

# Updates wait for activities (closing an order, say): longer, still bounded.
UPDATE_TIMEOUT = timedelta(seconds=30)
