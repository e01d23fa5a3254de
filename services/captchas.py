"""Captchas for the certificate query: a PNG to read, checked once, expiring, rate limited."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from captcha.image import ImageCaptcha

from services.context import AppState
from services.errors import ServiceError
from services.timefmt import utc_now
from storage import captchas

# No look-alikes (0/O, 1/I/L): the answer is typed on a phone from a distorted image.
ANSWER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_MAX_ANSWER_TEXT = 32
_RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedCaptcha:
    captcha_id: str
    image: str  # data:image/png;base64,...
    expires_at: datetime


def new_answer() -> str:
    """4 or 5 characters."""
    return "".join(secrets.choice(ANSWER_ALPHABET) for _ in range(4 + secrets.randbelow(2)))


def answer_hash(answer: str) -> str:
    # Case-insensitive: payers type what they see, in either case.
    return hashlib.sha256(answer.strip().upper().encode()).hexdigest()


def client_key(state: AppState, client_ip: str) -> str:
    """A keyed hash of the client IP: enough to count requests, without storing the IP."""
    key = state.settings.payer_ref_key.encode()
    return hmac.new(key, client_ip.encode(), hashlib.sha256).hexdigest()


def _png_data_url(answer: str) -> str:
    png = ImageCaptcha(width=160, height=60).generate(answer, format="png").getvalue()
    return "data:image/png;base64," + base64.b64encode(png).decode()


def captcha_invalid(message: str = "验证码不正确，请重新输入") -> ServiceError:
    return ServiceError(422, "CAPTCHA_INVALID", message, "captcha_answer")


async def issue(state: AppState, client_ip: str) -> IssuedCaptcha:
    """A new captcha for the client; 429 TOO_MANY_REQUESTS past the per-minute limit."""
    now = utc_now()
    key = client_key(state, client_ip)
    async with state.sessions.begin() as db:
        recent = await captchas.issued_since(db, key, now - _RATE_WINDOW)
    if recent >= state.settings.captcha_per_minute:
        raise ServiceError(
            429, "TOO_MANY_REQUESTS", "获取验证码过于频繁，请稍后再试", None, retry_after_s=60
        )
    answer = new_answer()
    # Drawing the image is CPU work: off the event loop.
    image = await asyncio.to_thread(_png_data_url, answer)
    captcha_id = "cap_" + secrets.token_hex(16)
    expires_at = now + timedelta(seconds=state.settings.captcha_ttl_s)
    async with state.sessions.begin() as db:
        await captchas.purge_old(db, now)
        await captchas.add_captcha(
            db,
            captcha_id=captcha_id,
            answer_hash=answer_hash(answer),
            client_key=key,
            at=now,
            expires_at=expires_at,
        )
    return IssuedCaptcha(captcha_id, image, expires_at)


async def check(state: AppState, captcha_id: str, answer: str) -> None:
    """Spend the captcha; 422 CAPTCHA_INVALID if unknown, used, expired or answered wrongly.

    Any attempt spends it, right or wrong, so each image allows one guess. The bypass answer
    (SHEBAO_CAPTCHA_BYPASS, never in production) still needs a live, unused captcha.
    """
    if len(captcha_id) > _MAX_ANSWER_TEXT * 2 or len(answer) > _MAX_ANSWER_TEXT:
        raise captcha_invalid()
    async with state.sessions.begin() as db:
        stored = await captchas.consume(db, captcha_id, utc_now())
    if stored is None:
        raise captcha_invalid("验证码已失效，请刷新验证码后重新输入")
    bypass = state.settings.captcha_bypass
    if bypass and hmac.compare_digest(answer.encode(), bypass.encode()):
        return
    if not hmac.compare_digest(answer_hash(answer).encode(), stored.encode()):
        raise captcha_invalid()
