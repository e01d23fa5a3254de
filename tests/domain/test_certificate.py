"""Certificate numbers, verification codes, the issuing authority and the printed period."""

from __future__ import annotations

from datetime import date

from domain.certificate import (
    VERIFY_ALPHABET,
    is_certificate_no,
    new_certificate_no,
    new_verify_code,
    period_text,
    tax_authority,
    verify_code_hash,
    verify_code_matches,
)
from domain.months import Month


def test_a_certificate_number_is_sb_the_issue_date_and_eight_digits() -> None:
    number = new_certificate_no(date(2026, 11, 27))
    assert number.startswith("SB20261127") and len(number) == 18
    assert is_certificate_no(number)
    for bad in ("SB2026112700", "XX2026112700000001", "SB２０26112700000001", "SB20261127abcdefgh"):
        assert not is_certificate_no(bad)


def test_verification_codes_are_long_unambiguous_and_checked_in_any_case() -> None:
    codes = {new_verify_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) >= 8 and set(c) <= set(VERIFY_ALPHABET) for c in codes)
    assert not set("01OIL") & set(VERIFY_ALPHABET)
    code = next(iter(codes))
    stored = verify_code_hash(code)
    assert code not in stored
    assert verify_code_matches(code.lower(), stored)
    assert verify_code_matches(f" {code} ", stored)
    assert not verify_code_matches(code[:-1], stored)


def test_the_authority_is_the_citys_tax_bureau_guiyang_by_default() -> None:
    assert tax_authority(None) == "国家税务总局贵阳市税务局"
    assert tax_authority("遵义市") == "国家税务总局遵义市税务局"
    assert tax_authority("安顺") == "国家税务总局安顺市税务局"
    assert tax_authority("黔东南州") == "国家税务总局黔东南州税务局"


def test_the_period_runs_from_the_first_day_to_the_last() -> None:
    assert period_text(Month(2024, 1), Month(2024, 2)) == "2024-01-01至2024-02-29"
