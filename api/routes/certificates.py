"""完税证明查询: issue a certificate, download its PDF, and the public verification route."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import CurrentPerson, PayerToken, current_person
from api.openapi import SIGNED_IN, VALIDATION, errors
from api.state import State
from domain.vocabulary import Insurance
from services.certificate_issue import issue_for_query, verify_page_path
from services.certificate_lookup import certificate_with_code, owned_certificate, verified
from services.timefmt import LocalDateTime

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

_MAX_CODE_TEXT = 32


class CertificateIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_month: str = Field(alias="from", max_length=16)
    to_month: str = Field(alias="to", max_length=16)
    captcha_id: str = Field(max_length=64)
    captcha_answer: str = Field(max_length=32)
    insurance: Insurance = Insurance.PENSION


class LineOut(BaseModel):
    month: str
    insurance: str
    amount_fen: int
    treasury_date: date


class PendingOut(BaseModel):
    month: str
    expected_date: date | None


class CertificateOut(BaseModel):
    certificate_no: str
    verify_code: str
    lines: list[LineOut]
    total_fen: int
    issued_at: LocalDateTime
    pdf_url: str
    verify_url: str
    # Paid months of the range whose money is not in the treasury yet (not on this certificate).
    not_yet_in_treasury: list[PendingOut]


class VerifyOut(BaseModel):
    valid: bool
    certificate_no: str
    payer: str
    # Masked: the verify route is public; only the payer's own PDF prints the number whole.
    id_number_masked: str
    total_fen: int
    issued_at: LocalDateTime
    from_month: str
    to_month: str


Code = Annotated[str | None, Query(max_length=_MAX_CODE_TEXT)]


NOT_FOUND = (404, "CERTIFICATE_NOT_FOUND")


@router.post(
    "",
    status_code=201,
    response_model=CertificateOut,
    responses=errors(
        VALIDATION,
        SIGNED_IN,
        (422, "CAPTCHA_INVALID"),
        (422, "INVALID_MONTH"),
        (422, "INVALID_PERIOD"),
        (409, "NOT_YET_IN_TREASURY"),
        (404, "NOTHING_TO_CERTIFY"),
        (503, "CERTIFICATE_UNAVAILABLE"),
    ),
)
async def issue(body: CertificateIn, state: State, me: CurrentPerson) -> CertificateOut:
    """201 with the lines in the treasury; 422 CAPTCHA_INVALID; 409 NOT_YET_IN_TREASURY; 404."""
    issued = await issue_for_query(
        state,
        me,
        body.insurance,
        (body.from_month, body.to_month),
        (body.captcha_id, body.captcha_answer),
    )
    no = issued.certificate_no
    return CertificateOut(
        certificate_no=no,
        verify_code=issued.verify_code,
        lines=[LineOut.model_validate(line) for line in issued.lines],
        total_fen=issued.total_fen,
        issued_at=issued.issued_at,
        # With the code, so a plain link (no Authorization header) downloads it.
        pdf_url=f"/api/v1/certificates/{no}.pdf?code={issued.verify_code}",
        verify_url=f"{state.settings.base_url}{verify_page_path(no)}?code={issued.verify_code}",
        not_yet_in_treasury=[PendingOut.model_validate(p) for p in issued.pending],
    )


@router.get(
    "/{certificate_no}.pdf",
    response_class=Response,
    response_model=None,
    responses={
        200: {
            "description": "The PDF as issued",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **errors(VALIDATION, SIGNED_IN, NOT_FOUND),
    },
)
async def pdf(
    certificate_no: str,
    state: State,
    token: PayerToken,
    code: Code = None,
) -> Response:
    """The PDF as issued: for its owner (bearer token) or anyone holding the verify code."""
    if code is None:
        # Authenticate first, so an anonymous caller learns nothing about the number.
        me = await current_person(state, token)
        found = await owned_certificate(state, certificate_no, me)
    else:
        found = await certificate_with_code(state, certificate_no, code)
    return Response(
        content=found.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{found.certificate_no}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/{certificate_no}/verify",
    response_model=VerifyOut,
    responses=errors(VALIDATION, NOT_FOUND),
)
async def verify(
    certificate_no: str,
    state: State,
    code: Annotated[str, Query(max_length=_MAX_CODE_TEXT)],
) -> VerifyOut:
    """Public: {valid, payer (masked), total_fen, issued_at}; 404 {valid: false} otherwise."""
    found, payer, id_number_masked = await verified(state, certificate_no, code)
    return VerifyOut(
        valid=True,
        certificate_no=found.certificate_no,
        payer=payer,
        id_number_masked=id_number_masked,
        total_fen=found.total_fen,
        issued_at=found.issued_at,
        from_month=found.from_month,
        to_month=found.to_month,
    )
