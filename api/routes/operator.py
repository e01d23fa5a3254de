"""Operator routes: registrations (参保登记), triage list, manual review, policies, calendars."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field

from api.auth import Operator
from api.openapi import OPERATOR, VALIDATION, errors
from api.state import State
from domain.policy import Policy
from domain.vocabulary import ContributionStatus
from services import calendars, operator
from services.calendars import CalendarTableIn, CalendarYearOut
from services.contribution_view import ContributionOut
from services.operator import RegistrationIn
from services.timefmt import LocalDateTime
from workflows.contract import ReviewAction, workflow_id

router = APIRouter(prefix="/api/v1/operator", tags=["operator"])


class RegistrationOut(BaseModel):
    person_id: str
    payer_ref: str
    insurance: str
    start_month: str
    status: str


class ContributionRow(BaseModel):
    """A triage line: ids, status, months and money; no personal data."""

    contribution_id: str
    workflow_id: str
    status: str
    payer_ref: str
    insurance: str
    months: list[str]
    total_fen: int
    channel: str
    reject_reason: str | None
    out_trade_no: str | None
    created_at: LocalDateTime
    updated_at: LocalDateTime


class ResolveIn(BaseModel):
    action: ReviewAction
    note: str = Field(min_length=1, max_length=500)


class PolicyOut(BaseModel):
    year: int
    insurance: str
    provisional: bool
    grades: list[int]


@router.post(
    "/registrations",
    status_code=201,
    response_model=RegistrationOut,
    responses=errors(
        *OPERATOR,
        VALIDATION,
        (422, "INVALID_ID_NUMBER"),
        (422, "INVALID_ID_TYPE"),
        (422, "INVALID_NAME"),
        (422, "INVALID_MONTH"),
        (422, "BIRTH_DATE_REQUIRED"),
        (422, "SEX_REQUIRED"),
        (422, "WOMEN_ORIGINAL_AGE_FOR_WOMEN"),
        (409, "PERSON_CONFLICT"),
        (409, "NAME_MISMATCH"),
    ),
)
async def register(body: RegistrationIn, state: State, actor: Operator) -> RegistrationOut:
    """参保登记; birth date and sex come from resident-type numbers, else from the body."""
    person, registration = await operator.register(state, actor, body)
    return RegistrationOut(
        person_id=person.id,
        payer_ref=person.payer_ref,
        insurance=body.insurance.value,
        start_month=registration.start_month,
        status=registration.status,
    )


@router.get(
    "/contributions", response_model=list[ContributionRow], responses=errors(*OPERATOR, VALIDATION)
)
async def list_contributions(
    state: State,
    actor: Operator,
    status: ContributionStatus | None = None,
    month: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ContributionRow]:
    """Newest first, by status and/or fee month."""
    rows = await operator.list_contributions(state, status, month, limit)
    return [
        ContributionRow(
            contribution_id=row.id,
            workflow_id=workflow_id(row.id),
            status=row.status.value,
            payer_ref=row.payer_ref,
            insurance=row.insurance.value,
            months=list(row.months),
            total_fen=row.total_fen,
            channel=row.channel.value,
            reject_reason=row.reject_reason.value if row.reject_reason else None,
            out_trade_no=row.out_trade_no,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


@router.post(
    "/contributions/{contribution_id}/resolve",
    response_model=ContributionOut,
    responses=errors(
        *OPERATOR,
        VALIDATION,
        (404, "CONTRIBUTION_NOT_FOUND"),
        (409, "NOT_IN_REVIEW"),
        (409, "CANNOT_RESOLVE"),
        (422, "UNKNOWN_ACTION"),
        (422, "NOTE_REQUIRED"),
    ),
)
async def resolve(
    contribution_id: str, body: ResolveIn, state: State, actor: Operator
) -> ContributionOut:
    """The outcome of a manual review (退款人工处理): retry the refund or mark it refunded."""
    return await operator.resolve_review(state, actor, contribution_id, body.action, body.note)


@router.put(
    "/policies/{year}",
    response_model=PolicyOut,
    responses=errors(*OPERATOR, VALIDATION, (422, "INVALID_POLICY"), (422, "POLICY_YEAR_MISMATCH")),
)
async def put_policy(
    year: int, document: Annotated[dict[str, Any], Body()], state: State, actor: Operator
) -> PolicyOut:
    """Load or replace a year's policy; validated by domain.policy, audited by storage."""
    policy = await operator.put_policy(state, actor, year, document)
    return PolicyOut(
        year=policy.year,
        insurance=policy.insurance.value,
        provisional=policy.provisional,
        grades=list(policy.grades) if isinstance(policy, Policy) else [],
    )


# Years the calendar libraries and the service can speak of.
CalendarYearPath = Annotated[int, Path(ge=2004, le=2099)]


@router.get(
    "/calendar/{year}", response_model=CalendarYearOut, responses=errors(*OPERATOR, VALIDATION)
)
async def get_calendar(year: CalendarYearPath, state: State, actor: Operator) -> CalendarYearOut:
    """The year's non-working days and 调休 working days, each with its source."""
    return await calendars.year_calendar(state.sessions, year)


@router.put(
    "/calendar/{year}",
    response_model=CalendarYearOut,
    responses=errors(*OPERATOR, VALIDATION, (422, "CALENDAR_TABLE_INVALID")),
)
async def put_calendar(
    year: CalendarYearPath, body: CalendarTableIn, state: State, actor: Operator
) -> CalendarYearOut:
    """Load the official table of a year (audited); it replaces the provisional one."""
    return await calendars.load_official_year(state.sessions, actor, year, body)
