"""ID numbers of every document type, name normalisation and masking."""

from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_11_2

from domain.errors import DomainError
from domain.identity import (
    MIDDLE_DOT,
    IdentityNumber,
    mask_id,
    mask_name,
    normalize_name,
    validate_id,
)
from domain.vocabulary import IdType, Sex


def with_check(body: str) -> str:
    return body + mod_11_2.calc_check_digit(body)


def flip_check(number: str) -> str:
    # Any other check character makes the MOD 11-2 sum wrong.
    others = [c for c in "0123456789X" if c != number[-1]]
    return number[:-1] + others[0]


def assert_invalid_number(id_type: str, raw: str) -> DomainError:
    with pytest.raises(DomainError) as info:
        validate_id(id_type, raw)
    assert info.value.code == "INVALID_ID_NUMBER"
    assert info.value.field == "id_number"
    assert info.value.message == "证件号码格式不正确，请核对后重新输入"
    return info.value


# --- resident ID (居民身份证) ----------------------------------------------------------------

GUIYANG_1975_MALE = with_check("52010219750314001")


def test_resident_id_yields_birth_date_and_sex():
    identity = validate_id(IdType.RESIDENT_ID, GUIYANG_1975_MALE)
    assert identity == IdentityNumber(
        IdType.RESIDENT_ID, GUIYANG_1975_MALE, date(1975, 3, 14), Sex.MALE
    )


def test_resident_id_even_sequence_digit_is_female():
    number = with_check("11010119900307002")
    assert validate_id("resident_id", number).sex is Sex.FEMALE


def test_resident_id_accepts_lower_case_x_full_width_digits_and_spaces():
    # A body whose check character is X, to test the lower-case x.
    bodies = (f"11010119900307{n:03d}" for n in range(1000))
    body = next(b for b in bodies if mod_11_2.calc_check_digit(b) == "X")
    typed = " ".join([body[:6], body[6:14], body[14:]]) + "x"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in body) + "ｘ"
    assert validate_id("resident_id", typed).number == body + "X"
    assert validate_id("resident_id", full_width).number == body + "X"
    assert validate_id("resident_id", "\u3000" + body + "X\u3000").number == body + "X"


def test_resident_id_from_county_created_after_birth_is_accepted():
    # 520102 (南明区) dates from 1983; numbers were issued later, so a 1975 birth is normal.
    assert validate_id("resident_id", GUIYANG_1975_MALE).birth_date == date(1975, 3, 14)


def test_resident_id_with_wrong_check_digit_is_refused():
    assert_invalid_number("resident_id", flip_check(GUIYANG_1975_MALE))


def test_resident_id_with_impossible_birth_date_is_refused():
    assert_invalid_number("resident_id", with_check("11010119900230001"))


def test_resident_id_with_unknown_region_is_refused():
    assert_invalid_number("resident_id", with_check("00000019900101001"))


def test_resident_id_with_hmt_region_is_refused():
    assert_invalid_number("resident_id", with_check("81000019900101001"))


def test_old_fifteen_digit_resident_id_is_refused():
    assert_invalid_number("resident_id", "110101900307001")


@pytest.mark.parametrize(
    "raw", ["", "11010119900307757", "1101011990030775712", "X10101199003077571"]
)
def test_resident_id_of_wrong_shape_is_refused(raw):
    assert_invalid_number("resident_id", raw)


def test_refusal_never_quotes_the_number():
    number = flip_check(GUIYANG_1975_MALE)
    exc = assert_invalid_number("resident_id", number)
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert number not in text
        assert number[:10] not in text


def test_identity_repr_masks_the_number():
    identity = validate_id("resident_id", GUIYANG_1975_MALE)
    assert GUIYANG_1975_MALE not in repr(identity)
    assert identity.masked() == mask_id(GUIYANG_1975_MALE)


REGIONS = ["110101", "520102", "520103", "360426"]
birth_dates = st.dates(min_value=date(1940, 1, 1), max_value=date(2010, 12, 31))


@settings(max_examples=150)
@given(st.sampled_from(REGIONS), birth_dates, st.integers(0, 999))
def test_any_resident_id_with_computed_check_digit_is_valid(region, birth, sequence):
    number = with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")
    identity = validate_id("resident_id", number)
    assert identity.birth_date == birth
    assert identity.sex is (Sex.MALE if sequence % 2 else Sex.FEMALE)
    with pytest.raises(DomainError):
        validate_id("resident_id", flip_check(number))


@settings(max_examples=100)
@given(st.sampled_from(REGIONS), birth_dates, st.integers(0, 999), st.integers(6, 16))
def test_changing_one_digit_of_a_resident_id_is_detected(region, birth, sequence, position):
    number = with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")
    changed = number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
    with pytest.raises(DomainError):
        validate_id("resident_id", changed)


# --- other documents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["H12345678", "M12345678", "H1234567801", "h 1234 5678", "Ｍ１２３４５６７８"]
)
def test_hong_kong_macao_permit_accepted(raw):
    identity = validate_id("hk_macao_permit", raw)
    assert identity.number[0] in "HM"
    assert identity.birth_date is None and identity.sex is None


@pytest.mark.parametrize(
    "raw", ["H1234567", "C12345678", "H123456789", "H123456780123", "12345678"]
)
def test_hong_kong_macao_permit_of_wrong_shape_is_refused(raw):
    assert_invalid_number("hk_macao_permit", raw)


def test_taiwan_permit_is_eight_digits():
    assert validate_id("taiwan_permit", "1234 5678").number == "12345678"
    assert_invalid_number("taiwan_permit", "1234567")
    assert_invalid_number("taiwan_permit", "T1234567")


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hmt_residence_permit_yields_birth_date_and_sex(prefix):
    number = with_check(f"{prefix}19880229003")
    identity = validate_id("hmt_residence_permit", number)
    assert identity.birth_date == date(1988, 2, 29)
    assert identity.sex is Sex.MALE


def test_hmt_residence_permit_with_wrong_check_digit_or_prefix_is_refused():
    number = with_check("81000019880229003")
    assert_invalid_number("hmt_residence_permit", flip_check(number))
    assert_invalid_number("hmt_residence_permit", with_check("84000019880229003"))
    assert_invalid_number("hmt_residence_permit", with_check("81000019890229003"))


@settings(max_examples=100)
@given(st.sampled_from(["810000", "820000", "830000"]), birth_dates, st.integers(0, 999))
def test_any_hmt_residence_permit_with_computed_check_digit_is_valid(prefix, birth, sequence):
    number = with_check(f"{prefix}{birth:%Y%m%d}{sequence:03d}")
    assert validate_id("hmt_residence_permit", number).birth_date == birth
    with pytest.raises(DomainError):
        validate_id("hmt_residence_permit", flip_check(number))


def test_new_foreign_permanent_residence_card_yields_birth_date_and_sex():
    number = with_check("93184019850615002")
    identity = validate_id("foreign_permanent_residence", number)
    assert identity.birth_date == date(1985, 6, 15)
    assert identity.sex is Sex.FEMALE
    assert_invalid_number("foreign_permanent_residence", flip_check(number))


def test_old_foreign_permanent_residence_card_derives_birth_date_when_it_can():
    assert validate_id("foreign_permanent_residence", "usa310085061501").birth_date == date(
        1985, 6, 15
    )
    identity = validate_id("foreign_permanent_residence", "USA310085133101")
    assert identity.birth_date is None and identity.sex is None


@pytest.mark.parametrize("raw", ["US3100850615011", "USA31008506150", "83184019850615002"])
def test_foreign_permanent_residence_card_of_wrong_shape_is_refused(raw):
    assert_invalid_number("foreign_permanent_residence", raw)


def test_passport_is_five_to_seventeen_letters_or_digits():
    assert validate_id("passport", "e1234 5678").number == "E12345678"
    assert validate_id("passport", "AB123").birth_date is None
    for raw in ["AB12", "A" * 18, "E1234-5678", "护照12345"]:
        assert_invalid_number("passport", raw)


def test_unknown_id_type_is_refused():
    with pytest.raises(DomainError) as info:
        validate_id("driving_licence", "12345678")
    assert info.value.code == "INVALID_ID_TYPE"
    assert info.value.field == "id_type"


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 张　三 ", "张三"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("王㛃", "王㛃"),
        ("王𠮷", "王𠮷"),
        ("ｊｏｈｎ  ｓｍｉｔｈ", "JOHN SMITH"),
        ("  jean-luc   picard ", "JEAN-LUC PICARD"),
        ("o’neil", "O'NEIL"),
        ("ＪＯＨＮ Ｆ． ＫＥＮＮＥＤＹ", "JOHN F. KENNEDY"),
        ("José Müller", "JOSÉ MÜLLER"),
    ],
)
def test_name_is_normalised(raw, expected):
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    "dot",
    [
        "\u00b7",
        "\u2022",
        "\u2027",
        "\u30fb",
        "\uff65",
        "\u2219",
        "\u22c5",
        "\uff0e",
        "\u0387",
        "\u16eb",
        "\u2e31",
    ],
)
def test_every_middle_dot_look_alike_becomes_the_middle_dot(dot):
    assert normalize_name(f"迪丽热巴{dot}迪力木拉提") == f"迪丽热巴{MIDDLE_DOT}迪力木拉提"


def test_compatibility_ideographs_are_not_rewritten():
    # NFKC would turn U+F900 into U+8C48: a different character in the registry.
    assert normalize_name("\uf900三") == "\uf900三"


@pytest.mark.parametrize(
    "raw", ["", "   ", "·张三", "张三·", "张3", "John2", "张@三", "-", "·", "张" * 65, "😀"]
)
def test_implausible_name_is_refused(raw):
    with pytest.raises(DomainError) as info:
        normalize_name(raw)
    assert info.value.code == "INVALID_NAME"
    assert info.value.field == "name"
    assert info.value.message == "姓名格式不正确"


def test_name_of_sixty_four_characters_is_accepted():
    assert len(normalize_name("张" * 64)) == 64


# Characters of Chinese and Latin names, the look-alikes people type, and a digit.
NAME_ALPHABET = [
    *"张三阿依古丽买买提王㛃𠮷豈abcXYZé ",
    *"\u3000\u2022\u30fb\uff0e\u00b7ｊ.-'’1",
]


@settings(max_examples=300)
@given(st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=20))
def test_normalising_a_name_twice_changes_nothing(raw):
    try:
        once = normalize_name(raw)
    except DomainError:
        assume(False)
    assert normalize_name(once) == once


# --- masking -----------------------------------------------------------------------------


def test_long_numbers_keep_three_first_and_four_last_characters():
    assert mask_id("52010219750314123X") == "520***********123X"


def test_short_numbers_keep_first_and_last_character():
    assert mask_id("12345678") == "1******8"
    assert mask_id("AB") == "**"


def test_masked_name_keeps_the_first_character():
    assert mask_name("张三") == "张*"
    assert mask_name("阿依古丽·买买提") == "阿*******"
    assert mask_name("张") == "*"
    assert mask_name("JOHN SMITH") == "J***"
    assert mask_name("") == ""


def test_composed_resident_id_validates_with_its_birth_date_and_sex() -> None:
    from domain.identity import compose_resident_id

    man = validate_id(IdType.RESIDENT_ID, compose_resident_id("520102", date(1988, 5, 17), 31))
    woman = validate_id(IdType.RESIDENT_ID, compose_resident_id("520111", date(1995, 9, 1), 22))
    assert (man.birth_date, man.sex) == (date(1988, 5, 17), Sex.MALE)
    assert (woman.birth_date, woman.sex) == (date(1995, 9, 1), Sex.FEMALE)
