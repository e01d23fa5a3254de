"""Contribution standards (缴费标准) per (insurance, year): pension grades and cut-off, and the
yearly amount per person of 城乡居民基本医疗保险 with its collection period."""

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
    """The policy's say on ages: the minimum age to pay.

    A woman's original retirement age (50 or 55) is a fact of her registration, not of a year.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_age: int = Field(default=16, ge=0, le=30)

    @model_validator(mode="before")
    @classmethod
    def _drop_women_original_age(cls, data: Any) -> Any:
        # Documents stored before it moved to the registration still carry it: ignored.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k != "women_original_age"}
        return data


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
    insurance: Literal[Insurance.PENSION] = Insurance.PENSION
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


class ResidentMedicalPolicy(BaseModel):
    """城乡居民基本医疗保险 for one coverage year (`year`, 待遇享受年度): one amount per person,
    paid within a collection period (集中缴费期, typically September–December of the year before).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2000, le=2100)
    province: str = Field(pattern=r"^[a-z][a-z_]*$")
    insurance: Literal[Insurance.RESIDENT_MEDICAL]
    # True until the province's official figure is loaded: shown to payers (暂定).
    provisional: bool
    amount_per_person_fen: int = Field(gt=0)
    collection_start: date
    # The cut-off: after it the coverage year is not payable online (办税服务厅 instead).
    collection_end: date
    treasury_lag_business_days: int = Field(default=3, ge=0, le=60)
    payment_window_minutes: int = Field(default=15, gt=0, le=24 * 60)
    # Every figure names where it comes from (a document and date, or a URL).
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_period(self) -> ResidentMedicalPolicy:
        if self.collection_start > self.collection_end:
            raise ValueError("collection_start must not be after collection_end")
        # Collected in the year before the coverage year or during it; never later.
        for day in (self.collection_start, self.collection_end):
            if day.year not in (self.year - 1, self.year):
                raise ValueError("the collection period must lie in the coverage year or before")
        return self

    def collecting(self, today: date) -> bool:
        """True within the collection period, both ends included."""
        return self.collection_start <= today <= self.collection_end


AnyPolicy = Policy | ResidentMedicalPolicy


def _invalid_policy(field: str | None = None) -> DomainError:
    return DomainError.of(INVALID_POLICY, field=field)


def parse_policy(doc: Mapping[str, Any]) -> AnyPolicy:
    """Validate one policy document (its `insurance` says which kind; pension when absent);
    INVALID_POLICY (field = first bad field) if wrong."""
    model: type[Policy] | type[ResidentMedicalPolicy] = (
        ResidentMedicalPolicy
        if isinstance(doc, Mapping) and doc.get("insurance") == Insurance.RESIDENT_MEDICAL
        else Policy
    )
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        errors = exc.errors()
        loc = errors[0]["loc"] if errors else ()
        raise _invalid_policy(".".join(str(p) for p in loc) or None) from None


def parse_pension_policy(doc: Mapping[str, Any]) -> Policy:
    """A pension policy document; INVALID_POLICY if it is of another insurance."""
    policy = parse_policy(doc)
    if not isinstance(policy, Policy):
        raise _invalid_policy("insurance")
    return policy


PolicyKey = tuple[Insurance, int]


def parse_policy_document(doc: Mapping[str, Any]) -> dict[PolicyKey, AnyPolicy]:
    """Validate a province file {"province": ..., "policies": [...]} by (insurance, year)."""
    if not isinstance(doc, Mapping):
        raise _invalid_policy()
    province = doc.get("province")
    items = doc.get("policies")
    if not isinstance(province, str) or not isinstance(items, list):
        raise _invalid_policy()
    result: dict[PolicyKey, AnyPolicy] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise _invalid_policy()
        policy = parse_policy(item)
        if policy.province != province:
            raise _invalid_policy("province")
        key = (policy.insurance, policy.year)
        if key in result:
            raise _invalid_policy("year")
        result[key] = policy
    return result


def load_policy_file(province: str = "guizhou") -> dict[int, Policy]:
    """The pension policies shipped in domain/data/<province>.json, by year."""
    return {
        year: policy
        for (_, year), policy in load_policy_set(province).items()
        if isinstance(policy, Policy)
    }


def load_policy_set(province: str = "guizhou") -> dict[PolicyKey, AnyPolicy]:
    """Every policy shipped in domain/data/<province>.json, by (insurance, year)."""
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
    """The policies in force, by (insurance, year). Operators replace one (e.g. a provisional one).

    `for_year` and `get` answer for pension, the insurance with grades; `medical` for
    城乡居民基本医疗保险; `policy` for either."""

    def __init__(
        self,
        policies: Mapping[int, Policy] | Iterable[AnyPolicy] | Mapping[PolicyKey, AnyPolicy] = (),
    ) -> None:
        if isinstance(policies, Mapping):
            # A policy filed under another year would be served for the wrong year.
            for key, policy in policies.items():
                year = key[1] if isinstance(key, tuple) else key
                if year != policy.year:
                    raise _invalid_policy("year")
            policies = policies.values()
        self._policies: dict[PolicyKey, AnyPolicy] = {
            (policy.insurance, policy.year): policy for policy in policies
        }

    @classmethod
    def from_file(cls, province: str = "guizhou") -> PolicyBook:
        return cls(load_policy_set(province))

    def policy(self, insurance: Insurance, year: int) -> AnyPolicy:
        """The (insurance, year) policy; POLICY_MISSING ("该年度缴费标准尚未公布") if none."""
        try:
            return self._policies[(Insurance(insurance), year)]
        except KeyError:
            raise DomainError.of(POLICY_MISSING) from None

    def for_year(self, year: int) -> Policy:
        """The year's pension policy; POLICY_MISSING if none is loaded."""
        policy = self.policy(Insurance.PENSION, year)
        assert isinstance(policy, Policy)  # keyed by insurance on the way in
        return policy

    def medical(self, year: int) -> ResidentMedicalPolicy:
        """The coverage year's 城乡居民基本医疗保险 policy; POLICY_MISSING if none is loaded."""
        policy = self.policy(Insurance.RESIDENT_MEDICAL, year)
        assert isinstance(policy, ResidentMedicalPolicy)
        return policy

    def medical_policies(self) -> list[ResidentMedicalPolicy]:
        """Every 城乡居民基本医疗保险 policy, by coverage year."""
        return [
            p for _, p in sorted(self._policies.items()) if isinstance(p, ResidentMedicalPolicy)
        ]

    def get(self, year: int) -> Policy | None:
        policy = self._policies.get((Insurance.PENSION, year))
        return policy if isinstance(policy, Policy) else None

    def replace(self, policy: AnyPolicy) -> None:
        """Load or replace the policy of (policy.insurance, policy.year) (in place)."""
        self._policies[(policy.insurance, policy.year)] = policy

    def years(self, insurance: Insurance = Insurance.PENSION) -> list[int]:
        return sorted(year for ins, year in self._policies if ins == insurance)

    def __contains__(self, year: object) -> bool:
        return (Insurance.PENSION, year) in self._policies

    def __len__(self) -> int:
        return len(self._policies)
