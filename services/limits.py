"""Limits every API process shares (PostgreSQL counters): per address, per requester, per target.

Keys are keyed hashes (SHEBAO_PAYER_REF_KEY), so the table never holds an address, a person id
or an ID number in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from services.context import AppState
from services.errors import ServiceError
from services.timefmt import utc_now
from storage import limit_counters

MINUTE = timedelta(minutes=1)


def limit_key(state: AppState, *parts: str) -> str:
    """A keyed hash of the parts; the first part stays readable (it names the limit)."""
    key = state.settings.payer_ref_key.encode()
    digest = hmac.new(key, "|".join(parts).encode(), hashlib.sha256).hexdigest()
    return f"{parts[0]}:{digest}"


def seconds_until(end: datetime, now: datetime) -> int:
    return max(1, math.ceil((end - now).total_seconds()))


def too_many(code: str, retry_after_s: int, message: str | None = None) -> ServiceError:
    """429 with a stable code; the envelope adds Retry-After from retry_after_s."""
    return ServiceError(
        429,
        code,
        message or f"操作过于频繁，请{retry_after_s}秒后再试",
        None,
        retry_after_s=retry_after_s,
    )


async def spend(
    state: AppState,
    key: str,
    limit: int,
    *,
    window: timedelta = MINUTE,
    code: str = "RATE_LIMITED",
    message: str | None = None,
) -> None:
    """Count one hit on the key; 429 `code` once the window holds more than `limit`."""
    now = utc_now()
    async with state.sessions.begin() as db:
        count, ends = await limit_counters.hit(db, key, now, window)
    if count > limit:
        raise too_many(code, seconds_until(ends, now), message)


async def per_address(state: AppState, scope: str, client_ip: str) -> None:
    """SHEBAO_RATE_LIMIT_PER_IP_PER_MINUTE requests of one client address on a scope.

    The address is the one the trusted proxy saw (uvicorn's proxy headers, trusting only
    SHEBAO_FORWARDED_ALLOW_IPS), so a forged X-Forwarded-For from anyone else changes nothing.
    """
    await spend(
        state,
        limit_key(state, f"ip.{scope}", client_ip),
        state.settings.rate_limit_per_ip_per_minute,
    )
