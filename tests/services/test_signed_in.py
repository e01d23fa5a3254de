"""The per-process memory of signed-in sessions answers as the sessions table would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.signed_in import SignedInCache
from storage.models import Person

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def test_an_entry_ends_with_its_session() -> None:
    cache = SignedInCache()
    person = Person(id="p1")
    cache.put("h", person, NOW + timedelta(minutes=1))
    assert cache.get("h", NOW) is person
    assert cache.get("h", NOW + timedelta(minutes=1)) is None
    # Gone for good: an expired session is never answered again.
    assert cache.get("h", NOW) is None


def test_an_entry_is_looked_up_again_after_the_ttl() -> None:
    clock = [0.0]
    cache = SignedInCache(ttl_s=30, clock=lambda: clock[0])
    cache.put("h", Person(id="p1"), NOW + timedelta(hours=2))
    clock[0] = 29.9
    assert cache.get("h", NOW) is not None
    clock[0] = 30.1
    assert cache.get("h", NOW) is None
    assert cache.get("unknown", NOW) is None


def test_the_oldest_entries_make_room() -> None:
    cache = SignedInCache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, Person(id=key), NOW + timedelta(hours=1))
    assert cache.get("a", NOW) is None
    assert [cache.get(k, NOW) is not None for k in ("b", "c")] == [True, True]


def test_nothing_is_remembered_while_sign_outs_cannot_be_heard() -> None:
    cache = SignedInCache()
    cache.put("h", Person(id="p1"), NOW + timedelta(hours=1))
    cache.suspend(True)
    assert cache.get("h", NOW) is None
    cache.put("h", Person(id="p1"), NOW + timedelta(hours=1))
    assert cache.get("h", NOW) is None
    cache.suspend(False)
    cache.put("h", Person(id="p1"), NOW + timedelta(hours=1))
    assert cache.get("h", NOW) is not None
    cache.forget("h")
    assert cache.get("h", NOW) is None
