"""Operator actions: registrations (参保登记), the triage list, manual review, yearly policies.

Every action that changes something is audited in the transaction that makes the change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.identity import normalize_name, validate_id
from domain.months import Month
from domain.payer_ref import payer_ref as make_payer_ref
from domain.policy import AnyPolicy, parse_policy
from domain.vocabulary import ContributionStatus, Insurance, Sex
from services.context import AppState
from services.contribution_view import ContributionOut, find_contribution, load_contribution
from services.errors import ServiceError, unavailable
from services.people import MAX_ID_TEXT, MAX_NAME_TEXT
from services.timefmt import utc_now
from storage import audit, contributions, persons, policies
from storage.errors import Conflict
from storage.models import (
    REGISTRATION_ACTIVE,
    REGISTRATION_SUSPENDED,
    Contribution,
    Person,
    Registration,
)
from workflows.contract import ContributionView, ResolveReview, workflow_id
from workflows.contribution import ContributionWorkflow

# Update validator refusals → (status, message).
_RESOLVE_REFUSALS: dict[str, tuple[int, str]] = {
    "NOT_IN_REVIEW": (409, "该缴费不在人工复核中"),
    "UNKNOWN_ACTION": (422, "不支持的处理方式"),
    "NOTE_REQUIRED": (422, "请填写处理说明"),
}


class RegistrationIn(BaseModel):
    """参保登记 as an operator asks for it."""

    id_type: str = Field(max_length=MAX_ID_TEXT)
    id_number: str = Field(max_length=MAX_ID_TEXT)
    name: str = Field(max_length=MAX_NAME_TEXT)
    insurance: Insurance = Insurance.PENSION
    start_month: str = Field(max_length=16)
    city: str | None = Field(default=None, max_length=64)
    birth_date: date | None = None
    sex: Sex | None = None
    # A woman's pre-reform retirement age (原法定退休年龄); left out, the default 55 applies.
    women_original_age: Literal[50, 55] | None = None
    status: Literal["active", "suspended"] = REGISTRATION_ACTIVE


async def register(
    state: AppState, actor: str, body: RegistrationIn
) -> tuple[Person, Registration]:
    """参保登记; birth date and sex come from resident-type numbers, else from the body."""
    ident = validate_id(body.id_type, body.id_number)
    clean_name = normalize_name(body.name)
    start = Month.parse(body.start_month)
    birth_date = ident.birth_date or body.birth_date
    sex = ident.sex or body.sex
    if birth_date is None:
        raise ServiceError(422, "BIRTH_DATE_REQUIRED", "该证件类型需填写出生日期", "birth_date")
    if sex is None:
        raise ServiceError(422, "SEX_REQUIRED", "该证件类型需填写性别", "sex")
    if body.women_original_age is not None and sex is not Sex.FEMALE:
        raise ServiceError(
            422, "WOMEN_ORIGINAL_AGE_FOR_WOMEN", "原法定退休年龄仅适用于女性", "women_original_age"
        )
    now = utc_now()
    async with state.sessions.begin() as db:
        try:
            person = await persons.add_person(
                db,
                id_type=ident.id_type,
                id_number=ident.number,
                name=clean_name,
                birth_date=birth_date,
                sex=sex,
                payer_ref=make_payer_ref(state.settings.payer_ref_key, ident.id_type, ident.number),
                city=body.city,
                women_original_age=body.women_original_age,
                at=now,
            )
        except Conflict:
            raise ServiceError(
                409, "PERSON_CONFLICT", "证件信息与已登记人员冲突", "id_number"
            ) from None
        if person.name != clean_name:
            raise ServiceError(409, "NAME_MISMATCH", "该证件已登记为其他姓名", "name")
        if body.women_original_age is not None:
            # A known person's registration may state (or correct) it: it moves her retirement.
            person.women_original_age = body.women_original_age
        registration = await persons.upsert_registration(
            db,
            person_id=person.id,
            insurance=body.insurance,
            start_month=str(start),
            status=REGISTRATION_SUSPENDED if body.status == "suspended" else REGISTRATION_ACTIVE,
            at=now,
        )
        await audit.audit(
            db,
            actor=actor,
            action="registration.put",
            subject=f"person:{person.id}",
            detail={
                "insurance": body.insurance.value,
                "start_month": registration.start_month,
                "status": registration.status,
                "women_original_age": person.women_original_age,
            },
            at=now,
        )
    return person, registration


async def list_contributions(
    state: AppState, status: ContributionStatus | None, month: str | None, limit: int
) -> Sequence[Contribution]:
    """Newest first, by status and/or fee month, from storage (the read model)."""
    fee_month = str(Month.parse(month)) if month is not None else None
    async with state.sessions() as db:
        return await contributions.list_contributions(
            db, status=status, month=fee_month, limit=limit
        )


async def contributions_by_status(state: AppState) -> dict[ContributionStatus, int]:
    """Every status with how many contributions are in it now (0 included), for metrics."""
    async with state.sessions() as db:
        counts = await contributions.count_by_status(db)
    return {status: counts.get(status, 0) for status in ContributionStatus}


async def resolve_review(
    state: AppState, actor: str, contribution_id: str, action: str, note: str
) -> ContributionOut:
    """The outcome of a manual review (退款人工处理): retry the refund or mark it refunded."""
    await find_contribution(state, contribution_id, None)
    client = await state.temporal.client()
    handle = client.get_workflow_handle(workflow_id(contribution_id))
    outcome = "refused"
    try:
        view: ContributionView = await handle.execute_update(
            ContributionWorkflow.resolve_review,
            ResolveReview(action=action, note=note, operator=actor),
        )
        outcome = view.status.value
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        status, message = _RESOLVE_REFUSALS.get(kind or "", (409, "该缴费当前不能处理"))
        raise ServiceError(status, kind or "CANNOT_RESOLVE", message, None) from None
    except RPCError:
        # The workflow has ended, or Temporal is away: nothing is in review either way.
        if await state.temporal.healthy():
            raise ServiceError(
                409, "NOT_IN_REVIEW", _RESOLVE_REFUSALS["NOT_IN_REVIEW"][1]
            ) from None
        raise unavailable() from None
    finally:
        # Every attempt is audited, refused ones too; the note itself may name people.
        async with state.sessions.begin() as db:
            await audit.audit(
                db,
                actor=actor,
                action=f"review.{action}",
                subject=f"contribution:{contribution_id}",
                detail={"note_length": len(note), "outcome": outcome},
                at=utc_now(),
            )
    # The update answers once the step carrying out the decision has stored it.
    return await load_contribution(state, contribution_id, None)


async def put_policy(
    state: AppState, actor: str, year: int, document: Mapping[str, Any]
) -> AnyPolicy:
    """Load or replace an (insurance, year) policy; the document's `insurance` says which
    (pension when absent). Validated by domain.policy, audited by storage."""
    policy = parse_policy(document)
    if policy.year != year:
        raise ServiceError(422, "POLICY_YEAR_MISMATCH", "缴费标准年度与地址中的年度不一致", "year")
    async with state.sessions.begin() as db:
        await policies.put_policy_document(
            db,
            year,
            policy.model_dump(mode="json"),
            policy.provisional,
            actor,
            insurance=policy.insurance,
            at=utc_now(),
        )
    return policy
