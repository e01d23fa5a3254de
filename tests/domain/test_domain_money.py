"""Integer fen: half-up rounding, yuan strings, and the Chinese capital amount."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.money import chinese_capital_amount, fen_to_yuan_str, round_half_up, yuan_to_fen


def test_halves_round_away_from_zero():
    assert round_half_up(Decimal("509057.5")) == 509058
    assert round_half_up(Decimal("101811.6")) == 101812
    assert round_half_up(Decimal("2.4999")) == 2
    assert round_half_up(Decimal("-0.5")) == -1
    assert round_half_up(7) == 7


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_half_up(0.5)  # type: ignore[arg-type]


@settings(max_examples=300)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False))
def test_round_half_up_matches_decimal_quantize(x):
    assert round_half_up(x) == int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert abs(Decimal(round_half_up(x)) - x) <= Decimal("0.5")


@pytest.mark.parametrize(
    ("fen", "text"),
    [(87267, "872.67"), (0, "0.00"), (5, "0.05"), (100000, "1000.00"), (-5, "-0.05")],
)
def test_fen_to_yuan_string(fen, text):
    assert fen_to_yuan_str(fen) == text


@pytest.mark.parametrize(
    ("text", "fen"),
    [("872.67", 87267), ("872.6", 87260), ("872", 87200), ("0.05", 5), ("-1.5", -150)],
)
def test_yuan_string_to_fen_is_exact(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["872.675", "1e3", "", "abc", "1,000.00", ".5", "872."])
def test_yuan_string_with_more_than_two_decimals_or_junk_is_refused(text):
    with pytest.raises(DomainError) as info:
        yuan_to_fen(text)
    assert info.value.code == "INVALID_AMOUNT"


@settings(max_examples=200)
@given(st.integers(-(10**12), 10**12))
def test_yuan_string_round_trips(fen):
    assert yuan_to_fen(fen_to_yuan_str(fen)) == fen


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (87267, "捌佰柒拾贰元陆角柒分"),
        (100000, "壹仟元整"),
        (100005, "壹仟元零伍分"),
        (436335, "肆仟叁佰陆拾叁元叁角伍分"),
        (0, "零元整"),
        (5, "伍分"),
        (50, "伍角"),
        (150, "壹元伍角"),
        (1000, "壹拾元整"),
        (101000, "壹仟零壹拾元整"),
        (1050000, "壹万零伍佰元整"),
        (1500000, "壹万伍仟元整"),
        (10000000, "壹拾万元整"),
        (100000100, "壹佰万零壹元整"),
        (10000000000, "壹亿元整"),
        (10001000000, "壹亿零壹万元整"),
        (10000000100, "壹亿零壹元整"),
        (10000010000, "壹亿零壹佰元整"),
        (12345678901299, "壹仟贰佰叁拾肆亿伍仟陆佰柒拾捌万玖仟零壹拾贰元玖角玖分"),
        (-87267, "负捌佰柒拾贰元陆角柒分"),
    ],
)
def test_chinese_capital_amount(fen, words):
    assert chinese_capital_amount(fen) == words


@settings(max_examples=200)
@given(st.integers(1, 10**14))
def test_capital_amount_never_doubles_or_dangles_zero(fen):
    words = chinese_capital_amount(fen)
    assert "零零" not in words
    assert not words.startswith("零")
    assert "零元" not in words and "零万" not in words and "零亿" not in words
    assert words.endswith(("整", "角", "分"))
