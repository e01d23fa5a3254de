"""Signed-in sessions an API process has seen lately, so most requests skip the token lookup."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from storage.models import Person


class SignedInCache:
    """Token hash → (person, session expiry), remembered for a short while by this process.

    Every authenticated request asked the database for its session and person, a read session
    and a round trip that cost about a quarter of a status or records read. A session row is
    never changed after sign-in (it is only deleted: sign-out, the purge) and a person row is
    never updated, so a remembered entry answers as the database would: the expiry is still
    checked on every request. A sign-out in any process is heard by every other through
    PostgreSQL (storage/sign_outs.py) and forgotten; while that channel is down nothing is
    remembered (`suspend`), so no sign-out can go unheard. Misses are not remembered.
    """

    def __init__(
        self,
        ttl_s: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Person, datetime, float]] = OrderedDict()
        # Set while the sign-out listener is down (services/sessions.sign_outs_heard).
        self._suspended = False

    def suspend(self, suspended: bool) -> None:
        """Stop (and forget everything) or resume remembering sessions."""
        self._suspended = suspended
        if suspended:
            self._entries.clear()

    def get(self, key: str, now: datetime) -> Person | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        person, expires_at, remembered_at = entry
        if expires_at <= now or self._clock() - remembered_at > self.ttl_s:
            del self._entries[key]
            return None
        return person

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def put(self, key: str, person: Person, expires_at: datetime) -> None:
        if self._suspended:
            return
        self._entries[key] = (person, expires_at, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
