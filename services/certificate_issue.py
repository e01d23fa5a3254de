"""Issuing a certificate: the months in the treasury, the 409/404 answers, the PDF, the row."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from domain.certificate import (
    FEE_TYPE,
    new_certificate_no,
    new_verify_code,
    period_text,
    tax_authority,
    verify_code_hash,
)
from domain.localtime import SHANGHAI
from domain.months import Month
from domain.vocabulary import ID_TYPE_LABELS, INSURANCE_LABELS, PAID_STATUSES, Insurance
from services.captchas import check
from services.certificate_pdf import CertificateDoc, CertificateLine, render_certificate
from services.cjk_fonts import FontsMissing, cjk_fonts
from services.context import AppState
from services.errors import ServiceError, log_unexpected
from services.periods import period
from services.timefmt import utc_now
from storage import certificates, contributions, treasury
from storage.models import Person

_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Issued:
    certificate_no: str
    verify_code: str
    lines: list[dict[str, object]]
    total_fen: int
    issued_at: datetime
    pending: list[dict[str, object]]


def item_name(insurance: Insurance) -> str:
    """品目名称: 企业职工基本养老保险 → 企业职工基本养老保险费."""
    return INSURANCE_LABELS.get(insurance, insurance.value) + "费"


def verify_page_path(certificate_no: str) -> str:
    """The H5 page a person reads the verification on (the QR code opens it), not the JSON."""
    return f"/h5/verify/{certificate_no}"


def nothing_to_certify() -> ServiceError:
    return ServiceError(
        404, "NOTHING_TO_CERTIFY", "所选期间没有已缴费记录，无法开具完税证明", "from"
    )


def not_yet_in_treasury(expected: date | None) -> ServiceError:
    return ServiceError(
        409,
        "NOT_YET_IN_TREASURY",
        "社保费缴入国库后才能开具完税证明，请在预计入库日期后再查询",
        None,
        expected_date=expected.isoformat() if expected is not None else None,
    )


async def issue_for_query(
    state: AppState,
    person: Person,
    insurance: Insurance,
    months: tuple[str | None, str | None],
    captcha: tuple[str, str],
) -> Issued:
    """完税证明查询: the period checked, then the captcha spent, then the certificate issued.

    Bad months are answered before the captcha is spent, so the payer can fix them and retry.
    """
    first, last = period(months[0], months[1], state.today())
    await check(state, *captcha)
    return await issue_certificate(state, person, insurance, first, last)


async def issue_certificate(
    state: AppState, person: Person, insurance: Insurance, first: Month, last: Month
) -> Issued:
    """A certificate of the months from first to last whose money is in the treasury.

    404 NOTHING_TO_CERTIFY when no month in the range is paid; 409 NOT_YET_IN_TREASURY with
    the earliest expected treasury date when some are paid but none is in the treasury yet.
    """
    async with state.sessions() as db:
        certifiable = await treasury.certifiable_months(
            db, person.id, insurance, str(first), str(last)
        )
        records = await contributions.list_records(
            db, person.id, str(first), str(last), insurance=insurance
        )
    done = {row.month for row in certifiable}
    pending = [row for row in records if row.status in PAID_STATUSES and row.month not in done]
    if not certifiable:
        if not pending:
            raise nothing_to_certify()
        expected = [row.expected_treasury_date for row in pending if row.expected_treasury_date]
        raise not_yet_in_treasury(min(expected) if expected else None)

    issued_at = utc_now()
    issued_on = issued_at.astimezone(SHANGHAI).date()
    code = new_verify_code()
    lines: list[dict[str, object]] = [
        {
            "month": row.month,
            "insurance": insurance.value,
            "amount_fen": row.amount_fen,
            "treasury_date": row.treasury_date.isoformat(),
            "contribution_id": row.contribution_id,
        }
        for row in certifiable
    ]
    total = sum(row.amount_fen for row in certifiable)
    months = [Month.parse(row.month) for row in certifiable]
    try:
        # The first call may run fc-match: a subprocess, kept off the event loop.
        fonts = await asyncio.to_thread(cjk_fonts, state.settings.cjk_font_paths)
    except FontsMissing as exc:
        log_unexpected(exc, "certificate fonts")
        raise ServiceError(
            503, "CERTIFICATE_UNAVAILABLE", "暂时无法开具完税证明，请稍后再试"
        ) from None

    for _ in range(_NUMBER_ATTEMPTS):
        number = new_certificate_no(issued_on)
        doc = CertificateDoc(
            certificate_no=number,
            issued_on=issued_on,
            authority=tax_authority(person.city),
            payer_name=person.name,
            id_type_label=ID_TYPE_LABELS[person.id_type],
            id_number=person.id_number,
            fee_type=FEE_TYPE,
            period=period_text(min(months), max(months)),
            lines=[
                CertificateLine(
                    month=row.month,
                    period=period_text(Month.parse(row.month), Month.parse(row.month)),
                    item=item_name(insurance),
                    amount_fen=row.amount_fen,
                    treasury_date=row.treasury_date,
                )
                for row in certifiable
            ],
            total_fen=total,
            verify_code=code,
            verify_url=f"{state.settings.base_url}{verify_page_path(number)}?code={code}",
        )
        # Font parsing and subsetting take a fraction of a second of CPU: off the event loop.
        pdf = await asyncio.to_thread(render_certificate, doc, fonts)
        try:
            async with state.sessions.begin() as db:
                await certificates.add_certificate(
                    db,
                    certificate_no=number,
                    person_id=person.id,
                    insurance=insurance,
                    from_month=str(first),
                    to_month=str(last),
                    verify_code_hash=verify_code_hash(code),
                    lines=lines,
                    total_fen=total,
                    issued_at=issued_at,
                    pdf=pdf,
                )
        except IntegrityError:
            continue  # the random number was taken: draw another
        return Issued(
            certificate_no=number,
            verify_code=code,
            lines=lines,
            total_fen=total,
            issued_at=issued_at,
            pending=[
                {"month": row.month, "expected_date": row.expected_treasury_date} for row in pending
            ],
        )
    raise ServiceError(503, "CERTIFICATE_UNAVAILABLE", "暂时无法开具完税证明，请稍后再试")
