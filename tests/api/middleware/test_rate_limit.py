"""The sliding window: a key gets `limit` hits per window, then waits for the oldest to leave."""

from __future__ import annotations

from api.middleware.rate_limit import SlidingWindowLimiter


def test_window_refuses_past_the_limit_and_reopens_as_hits_age() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(window_s=60, clock=lambda: now[0])
    assert [limiter.hit("k", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.hit("k", 3) == 60.0
    now[0] += 59.5
    assert limiter.hit("k", 3) == 0.5
    assert limiter.hit("other", 3) == 0.0
    now[0] += 0.5
    assert limiter.hit("k", 3) == 0.0


def test_refused_hits_do_not_extend_the_wait() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(window_s=60, clock=lambda: now[0])
    limiter.hit("k", 1)
    for _ in range(10):
        now[0] += 5
        limiter.hit("k", 1)
    now[0] = 60.0
    assert limiter.hit("k", 1) == 0.0
