"""Money in integer fen (分): half-up rounding, yuan strings and the Chinese capital amount."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import INVALID_AMOUNT, DomainError

_ONE = Decimal(1)
_YUAN_PATTERN = re.compile(r"(-?)([0-9]+)(?:\.([0-9]{1,2}))?")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IN_GROUP_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")


def round_half_up(x: Decimal | int) -> int:
    """Round to a whole number, halves away from zero (0.5 → 1, -0.5 → -1): the fen rule."""
    if isinstance(x, bool) or not isinstance(x, Decimal | int):
        # Floats carry binary error (0.285 is 0.28499...), so they are refused outright.
        raise TypeError("round_half_up takes Decimal or int, never float")
    return int(Decimal(x).quantize(_ONE, rounding=ROUND_HALF_UP))


def fen_to_yuan_str(fen: int) -> str:
    """87267 → "872.67"; -5 → "-0.05"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def yuan_to_fen(s: str) -> int:
    """Exact: "872.67" → 87267; more than two decimals or anything else → INVALID_AMOUNT."""
    match = _YUAN_PATTERN.fullmatch(s.strip()) if isinstance(s, str) else None
    if match is None:
        raise DomainError.of(INVALID_AMOUNT)
    sign, yuan, cents = match.groups()
    fen = int(yuan) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign else fen


def _group_words(group: int) -> str:
    # One group of up to four digits (仟佰拾个); inner runs of zeros read as a single 零,
    # trailing zeros are silent.
    words = ""
    zero_pending = False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero_pending = bool(words)
            continue
        if zero_pending:
            words += "零"
            zero_pending = False
        words += _DIGITS[digit] + _IN_GROUP_UNITS[position]
    return words


def _integer_words(n: int) -> str:
    groups: list[int] = []
    while n:
        n, group = divmod(n, 10_000)
        groups.append(group)
    if len(groups) > len(_GROUP_UNITS):
        raise ValueError("amount too large for a Chinese capital amount")
    words = ""
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            # An empty 万 group between 亿 and units still needs one 零 before what follows.
            zero_pending = bool(words)
            continue
        if words and (zero_pending or group < 1000):
            words += "零"
        words += _group_words(group) + _GROUP_UNITS[index]
        zero_pending = False
    return words


def chinese_capital_amount(fen: int) -> str:
    """人民币大写: 87267 → "捌佰柒拾贰元陆角柒分", 100000 → "壹仟元整", 100005 → "壹仟元零伍分"."""
    if fen == 0:
        return "零元整"
    sign = "负" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    jiao, fen_digit = divmod(cents, 10)
    words = _integer_words(yuan)
    if yuan:
        words += "元"
    if cents == 0:
        return sign + words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        # 1000.05 → 壹仟元零伍分: the empty 角 is read as 零 when yuan precede it.
        words += "零"
    if fen_digit:
        words += _DIGITS[fen_digit] + "分"
    return sign + words
