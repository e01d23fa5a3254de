"""The pure parts of a tax-payment certificate (税收完税证明): numbers, codes, authority, period."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date

from domain.months import Month

# Verification codes avoid look-alikes (0/O, 1/I/L) since people type them from paper.
VERIFY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
VERIFY_CODE_LENGTH = 10  # 31^10 ≈ 8e14 guesses: safe to publish a verify route for it

CERTIFICATE_PREFIX = "SB"
# SB + issue date + 8 random digits: 18 characters, like a real certificate number's length.
_SERIAL_DIGITS = 8

DEFAULT_CITY = "贵阳市"
FEE_TYPE = "社会保险费"


def new_certificate_no(issued_on: date) -> str:
    """ "SB20261127" + 8 random digits; a clash is caught by the primary key and redrawn."""
    serial = secrets.randbelow(10**_SERIAL_DIGITS)
    return f"{CERTIFICATE_PREFIX}{issued_on:%Y%m%d}{serial:0{_SERIAL_DIGITS}d}"


def is_certificate_no(text: str) -> bool:
    """Whether text has the shape of a certificate number (cheap check before any lookup)."""
    digits = text[len(CERTIFICATE_PREFIX) :]
    return (
        text.startswith(CERTIFICATE_PREFIX)
        and len(digits) == 8 + _SERIAL_DIGITS
        and digits.isascii()
        and digits.isdigit()
    )


def new_verify_code() -> str:
    return "".join(secrets.choice(VERIFY_ALPHABET) for _ in range(VERIFY_CODE_LENGTH))


def verify_code_hash(code: str) -> str:
    """What is stored; codes are compared case-insensitively, as typed from paper."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def verify_code_matches(code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(verify_code_hash(code).encode(), stored_hash.encode())


def tax_authority(city: str | None) -> str:
    """The issuing authority: the city's tax bureau (国家税务总局贵阳市税务局 by default)."""
    name = (city or "").strip() or DEFAULT_CITY
    if not name.endswith(("市", "州", "地区")):
        name += "市"
    return f"国家税务总局{name}税务局"


def period_text(first: Month, last: Month) -> str:
    """费款所属期 as printed: "2026-01-01至2026-03-31"."""
    return f"{first.first_day():%Y-%m-%d}至{last.last_day():%Y-%m-%d}"
