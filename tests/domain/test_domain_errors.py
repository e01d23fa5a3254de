"""DomainError: code, Chinese message and field; nothing else in its text."""

import pickle

import pytest

from domain.errors import MESSAGES, DomainError


def test_str_is_code_and_message_only():
    exc = DomainError("INVALID_NAME", "姓名格式不正确", field="name")
    assert str(exc) == "INVALID_NAME: 姓名格式不正确"
    assert exc.code == "INVALID_NAME"
    assert exc.message == "姓名格式不正确"
    assert exc.field == "name"
    assert exc.args == ("INVALID_NAME: 姓名格式不正确",)


def test_field_defaults_to_none():
    assert DomainError("POLICY_MISSING", "该年度缴费标准尚未公布").field is None


def test_code_must_be_upper_snake():
    with pytest.raises(ValueError):
        DomainError("not-a-code", "x")


def test_standard_error_uses_catalogue_message_and_default_field():
    exc = DomainError.of("INVALID_ID_NUMBER")
    assert exc.message == "证件号码格式不正确，请核对后重新输入"
    assert exc.field == "id_number"
    assert exc.to_dict() == {
        "code": "INVALID_ID_NUMBER",
        "message": "证件号码格式不正确，请核对后重新输入",
        "field": "id_number",
    }


def test_every_catalogue_message_is_chinese():
    for message in MESSAGES.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_error_survives_pickling_with_all_parts():
    exc = DomainError("GRADE_UNKNOWN", "缴费档次不正确", field="grade")
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.code, copy.message, copy.field) == ("GRADE_UNKNOWN", "缴费档次不正确", "grade")
