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
    """Take one attempt from the identity's budget, or 428 CAPTCHA_REQUIRED past it.

    The attempt is counted first, in one atomic upsert, so a burst of concurrent guesses cannot
    all slip in under the budget; a match gives it back (`succeeded`), so in the end only
    failures count. A captcha given while the budget still holds is not asked for or spent.
    """
    async with state.sessions.begin() as db:
        attempts, _ = await limit_counters.hit(db, _key(state, ident), utc_now(), _window(state))
    if attempts <= state.settings.identity_failures_before_captcha:
        return
    if not captcha_id or not captcha_answer:
        raise captcha_required()
    await captchas.check(state, captcha_id, captcha_answer)


async def succeeded(state: AppState, ident: IdentityNumber) -> None:
    """The trio matched: the attempt `admit` took is given back."""
    async with state.sessions.begin() as db:
        await limit_counters.give_back(db, _key(state, ident), utc_now())
