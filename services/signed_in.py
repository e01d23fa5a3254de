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
    never changed after sign-in (only expired rows are purged; there is no sign-out) and a
    person row is never updated, so a remembered entry answers as the database would: the expiry
    is still checked on every request. `ttl_s` bounds how long a revocation, were one added,
    could go unseen by a process. Misses (unknown tokens) are not remembered.
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

    def get(self, key: str, now: datetime) -> Person | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        person, expires_at, remembered_at = entry
        if expires_at <= now or self._clock() - remembered_at > self.ttl_s:
            del self._entries[key]
            return None
        return person

    def put(self, key: str, person: Person, expires_at: datetime) -> None:
        self._entries[key] = (person, expires_at, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
