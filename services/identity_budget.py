"""One budget of failed attempts per identity, shared by sign-in, lookup and records.

Keyed on the validated, normalised identity (type and number, as domain.identity makes them),
so full-width digits or a lower-case X reach the same budget; counted in PostgreSQL, so every
API process sees the same count; only failures count, so a stranger trying someone's number
cannot spend the real person's attempts. Past the budget the answer is not a refusal but
428 CAPTCHA_REQUIRED: the real person with the right trio and a solved captcha always gets in.
"""

from __future__ import annotations

from datetime import timedelta

from domain.identity import IdentityNumber
from services import captchas
from services.context import AppState
from services.errors import ServiceError
from services.limits import limit_key
from services.timefmt import utc_now
from storage import limit_counters


def captcha_required() -> ServiceError:
    return ServiceError(
        428, "CAPTCHA_REQUIRED", "该证件号码验证失败次数过多，请输入验证码后重试", "captcha_answer"
    )


def _key(state: AppState, ident: IdentityNumber) -> str:
    return limit_key(state, "identity", ident.id_type.value, ident.number)


def _window(state: AppState) -> timedelta:
    return timedelta(seconds=state.settings.identity_failure_window_s)


async def admit(
    state: AppState,
    ident: IdentityNumber,
    captcha_id: str | None,
    captcha_answer: str | None,
) -> None:
    """Let the attempt on the identity go ahead, or 428 CAPTCHA_REQUIRED past the budget.

    A captcha given while the budget still holds is not asked for and not spent.
    """
    async with state.sessions() as db:
        failures, _ = await limit_counters.current(db, _key(state, ident), utc_now())
    if failures < state.settings.identity_failures_before_captcha:
        return
    if not captcha_id or not captcha_answer:
        raise captcha_required()
    await captchas.check(state, captcha_id, captcha_answer)


async def failed(state: AppState, ident: IdentityNumber) -> None:
    """Count a failed attempt (the trio did not match) against the identity."""
    async with state.sessions.begin() as db:
        await limit_counters.hit(db, _key(state, ident), utc_now(), _window(state))
