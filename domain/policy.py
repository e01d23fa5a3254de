"""Contribution standards (缴费标准) per year: base limits, rate, grades, cut-off, settings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from domain.errors import GRADE_UNKNOWN, INVALID_POLICY, POLICY_MISSING, DomainError
from domain.money import round_half_up
from domain.vocabulary import Insurance

_PROVINCE_PATTERN = re.compile(r"[a-z][a-z_]*")


def _decimal_from_text(value: Any) -> Decimal:
    # Rates travel as strings ("0.20"): a JSON float would already have lost exactness.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('must be a decimal string such as "0.20"')
    try:
        result = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise ValueError('must be a decimal string such as "0.20"') from None
    if not result.is_finite():
        raise ValueError("must be a finite decimal")
    return result


DecimalText = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_text),
    PlainSerializer(str, return_type=str),
]


class RetirementSettings(BaseModel):
    """The policy's say on ages: women's original retirement age and the minimum age to pay."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Flexible-employment women usually count as 55 (原法定退休年龄); some provinces use 50.
    women_original_age: Literal[50, 55] = 55
    min_age: int = Field(default=16, ge=0, le=30)


@dataclass(frozen=True)
class GradeLine:
    """One 缴费档次: the grade (a percent of the average wage), its monthly base and amount."""

    grade: int
    percent: int
    base_fen: int
    monthly_fen: int


class Policy(BaseModel):
    """One year's standard for one insurance in one province. Validated on construction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2000, le=2100)
    province: str = Field(pattern=r"^[a-z][a-z_]*$")
    insurance: Insurance = Insurance.PENSION
    # True while the figures are a stand-in (e.g. a copy of last year): shown to payers.
    provisional: bool
    # Provincial average wage (社平工资) in fen per month; the base is a percent of it.
    average_wage_fen: int = Field(gt=0)
    rate: DecimalText
    # Grades are percents of the average wage, ascending, each within the floor and ceiling.
    grades: tuple[int, ...]
    floor_percent: int = Field(gt=0)
    ceiling_percent: int = Field(gt=0)
    # Last day on which any month of this year (current, back or prepaid) can be paid online;
    # after it the year is settled at the tax office (办税服务厅).
    cutoff_date: date
    back_payment_prior_years_allowed: bool
    interest_rate_per_annum: DecimalText = Decimal("0.0")
    treasury_lag_business_days: int = Field(default=3, ge=0, le=60)
    payment_window_minutes: int = Field(default=15, gt=0, le=24 * 60)
    retirement: RetirementSettings = RetirementSettings()
    source: str = ""

    @model_validator(mode="after")
    def _check_consistency(self) -> Policy:
        if self.floor_percent > self.ceiling_percent:
            raise ValueError("floor_percent must not exceed ceiling_percent")
        if not self.grades:
            raise ValueError("grades must not be empty")
        if list(self.grades) != sorted(set(self.grades)):
            raise ValueError("grades must be ascending without duplicates")
        if not all(self.floor_percent <= g <= self.ceiling_percent for g in self.grades):
            raise ValueError("every grade must lie within floor_percent and ceiling_percent")
        if not Decimal(0) < self.rate < Decimal(1):
            raise ValueError("rate must be between 0 and 1")
        if not Decimal(0) <= self.interest_rate_per_annum < Decimal(1):
            raise ValueError("interest_rate_per_annum must be in [0, 1)")
        # Only a cut-off within the year is applied (the rules compare it with dates of that
        # year): a January one of the next year would be accepted and silently ignored.
        if self.cutoff_date.year != self.year:
            raise ValueError("cutoff_date must fall in the policy year")
        return self

    def grade_line(self, grade: int) -> GradeLine:
        """The base and monthly amount of a grade; GRADE_UNKNOWN if the year has no such grade."""
        if isinstance(grade, bool) or grade not in self.grades:
            raise DomainError.of(GRADE_UNKNOWN)
        base_fen = round_half_up(Decimal(self.average_wage_fen) * grade / 100)
        monthly_fen = round_half_up(base_fen * self.rate)
        return GradeLine(grade=grade, percent=grade, base_fen=base_fen, monthly_fen=monthly_fen)

    def grade_lines(self) -> list[GradeLine]:
        return [self.grade_line(g) for g in self.grades]


def _invalid_policy(field: str | None = None) -> DomainError:
    return DomainError.of(INVALID_POLICY, field=field)


def parse_policy(doc: Mapping[str, Any]) -> Policy:
    """Validate one year's policy document; INVALID_POLICY (field = first bad field) if wrong."""
    try:
        return Policy.model_validate(doc)
    except ValidationError as exc:
        errors = exc.errors()
        loc = errors[0]["loc"] if errors else ()
        raise _invalid_policy(".".join(str(p) for p in loc) or None) from None


def parse_policy_document(doc: Mapping[str, Any]) -> dict[int, Policy]:
    """Validate a province file {"province": ..., "policies": [...]} into policies by year."""
    if not isinstance(doc, Mapping):
        raise _invalid_policy()
    province = doc.get("province")
    items = doc.get("policies")
    if not isinstance(province, str) or not isinstance(items, list):
        raise _invalid_policy()
    result: dict[int, Policy] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise _invalid_policy()
        policy = parse_policy(item)
        if policy.province != province:
            raise _invalid_policy("province")
        if policy.year in result:
            raise _invalid_policy("year")
        result[policy.year] = policy
    return result


def load_policy_file(province: str = "guizhou") -> dict[int, Policy]:
    """The policies shipped in domain/data/<province>.json, by year."""
    # The name becomes a file name: only plain lower-case names, so no path can be smuggled in.
    if not _PROVINCE_PATTERN.fullmatch(province):
        raise DomainError.of(POLICY_MISSING)
    resource = resources.files("domain") / "data" / f"{province}.json"
    if not resource.is_file():
        raise DomainError.of(POLICY_MISSING)
    try:
        doc = json.loads(resource.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise _invalid_policy() from None
    return parse_policy_document(doc)


class PolicyBook:
    """The policies in force, by year. Operators replace a year (e.g. a provisional one)."""

    def __init__(self, policies: Mapping[int, Policy] | Iterable[Policy] = ()) -> None:
        if isinstance(policies, Mapping):
            # A policy filed under another year would be served for the wrong year.
            if any(year != policy.year for year, policy in policies.items()):
                raise _invalid_policy("year")
            policies = policies.values()
        self._policies: dict[int, Policy] = {policy.year: policy for policy in policies}

    @classmethod
    def from_file(cls, province: str = "guizhou") -> PolicyBook:
        return cls(load_policy_file(province))

    def for_year(self, year: int) -> Policy:
        """The year's policy; POLICY_MISSING ("该年度缴费标准尚未公布") if none is loaded."""
        try:
            return self._policies[year]
        except KeyError:
            raise DomainError.of(POLICY_MISSING) from None

    def get(self, year: int) -> Policy | None:
        return self._policies.get(year)

    def replace(self, policy: Policy) -> None:
        """Load or replace the policy of policy.year (in place)."""
        self._policies[policy.year] = policy

    def years(self) -> list[int]:
        return sorted(self._policies)

    def __contains__(self, year: object) -> bool:
        return year in self._policies

    def __len__(self) -> int:
        return len(self._policies)
