"""The domain's one exception type: a stable code, a Chinese message, the offending field."""

from __future__ import annotations

import re
from typing import Any

_CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")

# Codes raised by domain/ (API error codes too). Kept as constants so callers need no string
# literals; the messages are what a payer reads, so they are Chinese and never quote input.
INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
INVALID_ID_TYPE = "INVALID_ID_TYPE"
INVALID_NAME = "INVALID_NAME"
INVALID_MONTH = "INVALID_MONTH"
INVALID_AMOUNT = "INVALID_AMOUNT"
MONTH_NOT_OPEN = "MONTH_NOT_OPEN"
YEAR_CLOSED = "YEAR_CLOSED"
MONTH_ALREADY_PAID = "MONTH_ALREADY_PAID"
MONTH_IN_FLIGHT = "MONTH_IN_FLIGHT"
NOT_ELIGIBLE = "NOT_ELIGIBLE"
NOT_REGISTERED = "NOT_REGISTERED"
GRADE_UNKNOWN = "GRADE_UNKNOWN"
POLICY_MISSING = "POLICY_MISSING"
INVALID_POLICY = "INVALID_POLICY"

MESSAGES: dict[str, str] = {
    INVALID_ID_NUMBER: "证件号码格式不正确，请核对后重新输入",
    INVALID_ID_TYPE: "证件类型不正确",
    INVALID_NAME: "姓名格式不正确",
    INVALID_MONTH: "费款所属期不正确",
    INVALID_AMOUNT: "金额格式不正确",
    MONTH_NOT_OPEN: "所选费款所属期不可缴费",
    YEAR_CLOSED: "该年度网上缴费已截止，请前往办税服务厅办理",
    MONTH_ALREADY_PAID: "所选费款所属期已缴费，不能重复缴纳",
    MONTH_IN_FLIGHT: "所选费款所属期有正在处理的缴费，请勿重复提交",
    NOT_ELIGIBLE: "不符合缴费条件",
    NOT_REGISTERED: "未查询到参保登记信息",
    GRADE_UNKNOWN: "缴费档次不正确",
    POLICY_MISSING: "该年度缴费标准尚未公布",
    INVALID_POLICY: "缴费标准数据不正确",
}

# The field each code points at when the caller does not say otherwise (API error body "field").
DEFAULT_FIELDS: dict[str, str] = {
    INVALID_ID_NUMBER: "id_number",
    INVALID_ID_TYPE: "id_type",
    INVALID_NAME: "name",
    INVALID_MONTH: "months",
    MONTH_NOT_OPEN: "months",
    YEAR_CLOSED: "months",
    MONTH_ALREADY_PAID: "months",
    MONTH_IN_FLIGHT: "months",
    GRADE_UNKNOWN: "grade",
}


class DomainError(Exception):
    """A business rule said no. Safe to show: it carries a code and generic text, never input."""

    code: str
    message: str
    field: str | None

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        if not _CODE_PATTERN.fullmatch(code):
            raise ValueError("DomainError code must be UPPER_SNAKE")
        # Only code and message reach Exception.args, so str(exc), repr(exc) and tracebacks
        # cannot leak an ID number or a name even if a caller logs the exception.
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def of(cls, code: str, field: str | None = None) -> DomainError:
        """Build the error for a known code with its standard message and default field."""
        return cls(code, MESSAGES[code], field if field is not None else DEFAULT_FIELDS.get(code))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickles through args (one string here); rebuild from the three parts instead.
        return (type(self), (self.code, self.message, self.field))

    def to_dict(self) -> dict[str, str | None]:
        """The API error body: {"code", "message", "field"}."""
        return {"code": self.code, "message": self.message, "field": self.field}
