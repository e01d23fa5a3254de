"""Identity documents (证件) and names (姓名): validation, normalisation and masking."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent, ValidationError
from stdnum.iso7064 import mod_11_2

from domain.errors import INVALID_ID_NUMBER, INVALID_ID_TYPE, INVALID_NAME, DomainError
from domain.vocabulary import IdType, Sex

# --- ID numbers --------------------------------------------------------------------------

# Mainland province codes start with 1–6; 71 (Taiwan) and 81/82 (HK/Macao) appear in the region
# database but never on a 居民身份证 (81/82/83 are 港澳台居民居住证 prefixes).
_RESIDENT_ID = re.compile(r"[1-6][0-9]{16}[0-9X]")
_HK_MACAO_PERMIT = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")
_TAIWAN_PERMIT = re.compile(r"[0-9]{8}")
_HMT_RESIDENCE_PERMIT = re.compile(r"(?:810000|820000|830000)[0-9]{11}[0-9X]")
_FOREIGN_PR_OLD = re.compile(r"[A-Z]{3}[0-9]{12}")
_FOREIGN_PR_NEW = re.compile(r"9[0-9]{16}[0-9X]")
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")


@dataclass(frozen=True)
class IdentityNumber:
    """A validated, normalised document number with what the number itself says about the holder."""

    id_type: IdType
    number: str
    birth_date: date | None
    sex: Sex | None

    def masked(self) -> str:
        return mask_id(self.number)

    def __repr__(self) -> str:
        # The default dataclass repr would print the full number into any log line.
        return f"IdentityNumber(id_type={self.id_type.value!r}, number={self.masked()!r})"


def _invalid_number() -> DomainError:
    return DomainError.of(INVALID_ID_NUMBER)


def parse_id_type(id_type: IdType | str) -> IdType:
    """IdType from its value; INVALID_ID_TYPE for anything else."""
    try:
        return IdType(id_type)
    except ValueError:
        raise DomainError.of(INVALID_ID_TYPE) from None


def normalize_id_number(raw: str) -> str:
    """What people type → canonical form: full-width to half-width, no spaces, upper case."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace()).upper()


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _sex_from_digit(digit: str) -> Sex:
    # Same convention for every 18-character number: odd sequence digit = male.
    return Sex.MALE if int(digit) % 2 == 1 else Sex.FEMALE


def _region_known_at_any_time(number: str) -> bool:
    # stdnum.cn.ric insists the county code existed in the holder's birth year, but codes were
    # assigned when the number was issued (1984 onwards), not at birth: a 1975-born person from
    # 贵阳市南明区 (code 520102, created 1983) holds a valid 520102 1975... number that ric refuses.
    # So we accept any county code the database has ever known.
    results = numdb.get("cn/loc").info(number[:6])
    props = {k: v for _part, found in results for k, v in found.items()}
    return "province" in props and "county" in props


def _validate_resident_id(number: str) -> IdentityNumber:
    if not _RESIDENT_ID.fullmatch(number):
        raise _invalid_number()
    try:
        ric.validate(number)
    except ValidationError as exc:
        # Only a region-versus-birth-year mismatch is forgiven; bad length, format, check digit
        # or birth date stay refused.
        if not isinstance(exc, InvalidComponent) or not _region_known_at_any_time(number):
            raise _invalid_number() from None
        try:
            ric.get_birth_date(number)
        except ValidationError:
            raise _invalid_number() from None
    return IdentityNumber(
        IdType.RESIDENT_ID, number, ric.get_birth_date(number), _sex_from_digit(number[16])
    )


def _validate_18_with_check_digit(id_type: IdType, number: str) -> IdentityNumber:
    # Shared by 港澳台居民居住证 and the new 外国人永久居留身份证: GB 11643 layout (birth date in
    # positions 7–14, sex in 17) with the MOD 11-2 check digit, but region codes stdnum refuses.
    if not mod_11_2.is_valid(number):
        raise _invalid_number()
    birth = _date_or_none(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if birth is None:
        raise _invalid_number()
    return IdentityNumber(id_type, number, birth, _sex_from_digit(number[16]))


def _validate_foreign_pr(number: str) -> IdentityNumber:
    if _FOREIGN_PR_NEW.fullmatch(number):
        return _validate_18_with_check_digit(IdType.FOREIGN_PERMANENT_RESIDENCE, number)
    if not _FOREIGN_PR_OLD.fullmatch(number):
        raise _invalid_number()
    # Old 15-character layout: nationality (3 letters), place of acceptance (4 digits), birth
    # date YYMMDD, sequence (2 digits). Without a check digit or century the date is only a
    # hint: used when it is a real date, else unknown.
    yy, mm, dd = int(number[7:9]), int(number[9:11]), int(number[11:13])
    # Cards of this layout were issued 2004–2023 to people born before issue: a two-digit year
    # not after 23 is read as 20YY, else 19YY.
    year = 2000 + yy if yy <= 23 else 1900 + yy
    return IdentityNumber(
        IdType.FOREIGN_PERMANENT_RESIDENCE, number, _date_or_none(year, mm, dd), None
    )


def validate_id(id_type: IdType | str, raw: str) -> IdentityNumber:
    """Validate a document number typed by a person; INVALID_ID_NUMBER / INVALID_ID_TYPE if not."""
    kind = parse_id_type(id_type)
    if not isinstance(raw, str):
        raise _invalid_number()
    number = normalize_id_number(raw)
    if kind is IdType.RESIDENT_ID:
        return _validate_resident_id(number)
    if kind is IdType.HMT_RESIDENCE_PERMIT:
        if not _HMT_RESIDENCE_PERMIT.fullmatch(number):
            raise _invalid_number()
        return _validate_18_with_check_digit(kind, number)
    if kind is IdType.FOREIGN_PERMANENT_RESIDENCE:
        return _validate_foreign_pr(number)
    simple = {
        IdType.HK_MACAO_PERMIT: _HK_MACAO_PERMIT,
        IdType.TAIWAN_PERMIT: _TAIWAN_PERMIT,
        IdType.PASSPORT: _PASSPORT,
    }[kind]
    if not simple.fullmatch(number):
        raise _invalid_number()
    return IdentityNumber(kind, number, None, None)


# --- names -------------------------------------------------------------------------------

MIDDLE_DOT = "\u00b7"

# Characters people (and their keyboards) type for the dot in names like 阿依古丽·买买提.
# U+FF0E (full-width full stop) is handled separately: a dot in a Chinese name, a period in a
# Latin one.
_DOT_LOOKALIKES = frozenset("\u00b7\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387\u16eb\u2e31")
# Phone keyboards insert typographic apostrophes and dashes; registries hold the ASCII ones.
_APOSTROPHES = frozenset("\u2018\u2019\u02bc\u2032")
_HYPHENS = frozenset("\u2010\u2011\u2012\u2013\u2212")
_NAME_PUNCTUATION = frozenset({" ", MIDDLE_DOT, "-", "'", "."})
_MAX_NAME_LENGTH = 64


def is_cjk_ideograph(ch: str) -> bool:
    """CJK unified ideographs incl. Extension A and B+ (生僻字) and compatibility ideographs."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        # Supplementary Ideographic Plane and Tertiary Ideographic Plane: Extensions B–I and
        # the compatibility supplement. Ranges, not unicodedata, so ideographs newer than this
        # Python's Unicode tables are still accepted.
        or 0x20000 <= cp <= 0x3FFFF
    )


def _is_latin_letter(ch: str) -> bool:
    cp = ord(ch)
    if "A" <= ch <= "Z" or "a" <= ch <= "z":
        return True
    # Latin-1 Supplement and Latin Extended-A letters (É, Ü, Ł, ...), minus × and ÷.
    return 0xC0 <= cp <= 0x17F and cp not in (0xD7, 0xF7)


def _canonical_char(ch: str) -> str:
    if ch in _DOT_LOOKALIKES:
        return MIDDLE_DOT
    if ch in _APOSTROPHES:
        return "'"
    if ch in _HYPHENS:
        return "-"
    cp = ord(ch)
    # NFKC only for the full-width ASCII block and the ideographic space: applied to the whole
    # string it would also rewrite CJK compatibility ideographs, changing a person's name.
    if 0xFF01 <= cp <= 0xFF5E or cp == 0x3000:
        ch = unicodedata.normalize("NFKC", ch)
    if ch.isspace():
        return " "
    return ch


def _invalid_name() -> DomainError:
    return DomainError.of(INVALID_NAME)


def normalize_name(raw: str) -> str:
    """A typed name → the registry's form (Chinese: no spaces, "·"; Latin: upper case).

    Raises INVALID_NAME when the result is not a plausible name.
    """
    if not isinstance(raw, str):
        raise _invalid_name()
    text = "".join(_canonical_char(ch) for ch in raw)
    has_cjk = any(is_cjk_ideograph(ch) for ch in text)
    # In a Chinese name a period (often U+FF0E, already turned into ".") is a mistyped middle
    # dot and spaces have no place; a Latin name keeps single spaces between its parts.
    text = text.replace(".", MIDDLE_DOT).replace(" ", "") if has_cjk else re.sub(" +", " ", text)
    text = text.strip().upper()
    if not 1 <= len(text) <= _MAX_NAME_LENGTH:
        raise _invalid_name()
    if text[0] == MIDDLE_DOT or text[-1] == MIDDLE_DOT:
        raise _invalid_name()
    has_letter = False
    for ch in text:
        if is_cjk_ideograph(ch) or _is_latin_letter(ch):
            has_letter = True
        elif ch not in _NAME_PUNCTUATION:
            raise _invalid_name()
    if not has_letter:
        raise _invalid_name()
    return text


# --- masking -----------------------------------------------------------------------------


def mask_id(number: str) -> str:
    """Show enough of a document number to recognise it: "520***********123X", "1******8"."""
    n = len(number)
    if n >= 10:
        return number[:3] + "*" * (n - 7) + number[-4:]
    if n >= 3:
        return number[0] + "*" * (n - 2) + number[-1]
    return "*" * n


def mask_name(name: str) -> str:
    """Keep the first character: "张*", "阿*******"; Latin names "J***" (hides the length)."""
    if not name:
        return ""
    if not any(is_cjk_ideograph(ch) for ch in name):
        return name[0] + "***"
    if len(name) == 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def compose_resident_id(region: str, birth: date, sequence: int) -> str:
    """A resident ID number from its parts, with the ISO 7064 MOD 11-2 check digit.

    For demo data, tests and benchmarks: an odd `sequence` makes a man, an even one a woman.
    """
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + mod_11_2.calc_check_digit(body)
