"""社保费申报查询: a person's contribution months with their status, and one month's details."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from api.auth import CurrentPerson
from api.middleware.rate_limit import rate_limit
from api.openapi import IDENTITY, RATE_LIMITED, SIGNED_IN, VALIDATION, errors
from api.state import State
from domain.vocabulary import INSURANCE_LABELS, STATUS_LABELS, ContributionStatus
from services.payer_facts import ContributionYearsOut
from services.people import IdentityBody
from services.records import contribution_years_of, identity_in_query, records_of
from services.records import record_details as record_details_of
from services.timefmt import LocalDateTime
from storage.contributions import RecordRow
from storage.models import MAX_INTEGER_ID

# Per client address here; another person's trio spends its identity's budget in the service.
router = APIRouter(
    prefix="/api/v1/records",
    tags=["records"],
    dependencies=[Depends(rate_limit("records"))],
)

PERIOD = ((422, "INVALID_MONTH"), (422, "INVALID_PERIOD"))

_IDENTITY_FIELDS = ("id_type", "id_number", "name")


class RecordsQuery(IdentityBody):
    """Another person's records: their trio in the body (never a URL, which proxies log)."""

    from_month: str | None = Field(default=None, alias="from", max_length=16)
    to_month: str | None = Field(default=None, alias="to", max_length=16)


class RecordOut(BaseModel):
    record_id: int
    contribution_id: str
    month: str
    insurance: str
    insurance_label: str
    base_fen: int
    amount_fen: int
    interest_fen: int
    paid_at: LocalDateTime | None
    status: ContributionStatus
    status_label: str
    treasury_date: date | None
    expected_treasury_date: date | None
    # True: the date leans on a provisional calendar year (the pages say 预计).
    expected_treasury_provisional: bool


class PaymentOut(BaseModel):
    """The payment numbers: the voucher a payer keeps (商户单号, 微信支付单号)."""

    out_trade_no: str | None
    transaction_id: str | None


class PostingOut(BaseModel):
    posting_id: str
    state: str


class RefundOut(BaseModel):
    out_refund_no: str
    status: str
    amount_fen: int


class RecordDetailsOut(RecordOut):
    payer_name_masked: str
    payment: PaymentOut
    posting: PostingOut | None
    refund: RefundOut | None


def _record_out(row: RecordRow) -> RecordOut:
    return RecordOut(
        record_id=row.record_id,
        contribution_id=row.contribution_id,
        month=row.month,
        insurance=row.insurance.value,
        insurance_label=INSURANCE_LABELS.get(row.insurance, row.insurance.value),
        base_fen=row.base_fen,
        amount_fen=row.amount_fen,
        interest_fen=row.interest_fen,
        paid_at=row.paid_at,
        status=row.status,
        status_label=STATUS_LABELS[row.status],
        treasury_date=row.treasury_date,
        expected_treasury_date=row.expected_treasury_date,
        expected_treasury_provisional=row.expected_treasury_provisional,
    )


@router.get(
    "",
    response_model=list[RecordOut],
    responses=errors(VALIDATION, SIGNED_IN, RATE_LIMITED, *PERIOD, (400, "IDENTITY_IN_QUERY")),
)
async def list_records(
    request: Request,
    state: State,
    me: CurrentPerson,
    from_month: Annotated[str | None, Query(alias="from", max_length=16)] = None,
    to_month: Annotated[str | None, Query(alias="to", max_length=16)] = None,
) -> list[RecordOut]:
    """The signed-in person's months, this year by default. Another person's: POST /query."""
    if any(field in request.query_params for field in _IDENTITY_FIELDS):
        raise identity_in_query()
    rows = await records_of(state, me, from_month, to_month)
    return [_record_out(row) for row in rows]


@router.post(
    "/query",
    response_model=list[RecordOut],
    responses=errors(VALIDATION, SIGNED_IN, RATE_LIMITED, *PERIOD, *IDENTITY),
)
async def query_records(body: RecordsQuery, state: State, me: CurrentPerson) -> list[RecordOut]:
    """Another person's months; the same 422/401/428 answers as sign-in for the trio."""
    rows = await records_of(state, me, body.from_month, body.to_month, trio=body)
    return [_record_out(row) for row in rows]


@router.get(
    "/contribution-years",
    response_model=ContributionYearsOut | None,
    responses=errors(SIGNED_IN, RATE_LIMITED),
)
async def contribution_years(state: State, me: CurrentPerson) -> ContributionYearsOut | None:
    """累计缴费年限 of the signed-in person against the minimum in force (null: not registered)."""
    return await contribution_years_of(state, me)


@router.get(
    "/{record_id}",
    response_model=RecordDetailsOut,
    responses=errors(VALIDATION, SIGNED_IN, RATE_LIMITED, (404, "RECORD_NOT_FOUND")),
)
async def record_details(
    record_id: Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)],
    state: State,
    me: CurrentPerson,
) -> RecordDetailsOut:
    """One month's details: only for its person or whoever paid it (404 for anyone else)."""
    row, name_masked = await record_details_of(state, me, record_id)
    base = _record_out(row)
    return RecordDetailsOut(
        **base.model_dump(),
        payer_name_masked=name_masked,
        payment=PaymentOut(out_trade_no=row.out_trade_no, transaction_id=row.transaction_id),
        posting=(
            PostingOut(posting_id=row.posting_id, state=row.posting_state.value)
            if row.posting_id is not None and row.posting_state is not None
            else None
        ),
        refund=(
            RefundOut(
                out_refund_no=row.refund.out_refund_no,
                status=row.refund.status.value,
                amount_fen=row.refund.amount_fen,
            )
            if row.refund is not None
            else None
        ),
    )
