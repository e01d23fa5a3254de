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
from storage import limit_counters, quotes
from storage.models import Person

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


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


async def _per_requester_and_target(
    state: AppState,
    what: str,
    me: Person,
    target_id: str,
    limits: tuple[int, int],
    code: str,
    message: str,
) -> None:
    """One hit on the requester's budget; and when the target is someone else, one on the
    budget of what others do for the target. A person's own quotes and starts never count
    against their target budget, so strangers cannot spend it for them."""
    per_requester, per_target = limits
    await spend(
        state, limit_key(state, f"{what}.by", me.id), per_requester, window=HOUR,
        code=code, message=message,
    )  # fmt: skip
    if target_id != me.id:
        await spend(
            state, limit_key(state, f"{what}.for", target_id), per_target, window=HOUR,
            code=code, message=message,
        )  # fmt: skip


async def quote_allowed(state: AppState, me: Person, target: Person) -> None:
    """429 TOO_MANY_QUOTES past SHEBAO_QUOTES_PER_REQUESTER_PER_HOUR, or past
    SHEBAO_QUOTES_PER_TARGET_PER_HOUR quotes others asked for the same person."""
    settings = state.settings
    await _per_requester_and_target(
        state,
        "quote",
        me,
        target.id,
        (settings.quotes_per_requester_per_hour, settings.quotes_per_target_per_hour),
        "TOO_MANY_QUOTES",
        "确认缴费金额过于频繁，请稍后再试",
    )


async def start_allowed(state: AppState, me: Person, quote_id: str) -> None:
    """429 TOO_MANY_STARTS past SHEBAO_STARTS_PER_REQUESTER_PER_HOUR, or past
    SHEBAO_STARTS_PER_TARGET_PER_HOUR payments others started for the quote's person (each
    start opens a real order at the channel). An unknown quote is left to the start to refuse."""
    async with state.sessions() as db:
        quote = await quotes.get_quote(db, quote_id)
    settings = state.settings
    await _per_requester_and_target(
        state,
        "start",
        me,
        quote.person_id if quote is not None else me.id,
        (settings.starts_per_requester_per_hour, settings.starts_per_target_per_hour),
        "TOO_MANY_STARTS",
        "发起缴费过于频繁，请稍后再试",
    )
