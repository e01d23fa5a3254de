"""The operator's token, checked in constant time, with failed attempts throttled per address."""

from __future__ import annotations

import hmac
from datetime import timedelta

from services.context import AppState
from services.errors import ServiceError
from services.limits import limit_key, seconds_until, too_many
from services.timefmt import utc_now
from storage import limit_counters

OPERATOR_FAILURE_WINDOW = timedelta(minutes=15)


def operator_unauthorized() -> ServiceError:
    return ServiceError(401, "OPERATOR_UNAUTHORIZED", "操作员身份验证失败", None)


async def authenticate_operator(state: AppState, token: str | None, client_ip: str) -> None:
    """401 OPERATOR_UNAUTHORIZED unless the token is SHEBAO_OPERATOR_TOKEN.

    429 OPERATOR_THROTTLED once the address failed SHEBAO_OPERATOR_FAILURES_PER_ADDRESS times
    in the window, even with the right token: counted in PostgreSQL, so every API process
    refuses it, and a guesser learns nothing more until the window ends.
    """
    key = limit_key(state, "operator", client_ip)
    now = utc_now()
    async with state.sessions() as db:
        failures, ends = await limit_counters.current(db, key, now)
    if failures >= state.settings.operator_failures_per_address and ends is not None:
        wait = seconds_until(ends, now)
        raise too_many("OPERATOR_THROTTLED", wait, f"操作员身份验证失败次数过多，请{wait}秒后再试")
    expected = state.settings.operator_token
    if token is None or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        async with state.sessions.begin() as db:
            await limit_counters.hit(db, key, now, OPERATOR_FAILURE_WINDOW)
        raise operator_unauthorized()
