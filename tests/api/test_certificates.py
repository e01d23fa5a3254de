"""完税证明查询: captcha, certificates of money in the treasury only, the PDF, verification."""

from __future__ import annotations

import base64
import io
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pypdf import PdfReader

from domain.identity import mask_id
from domain.months import Month
from services.captchas import answer_hash
from storage import captchas
from tests.api.conftest import ApiStack, Payer
from tests.api.seeding import posting_contribution
from tests.support import this_month, today

BYPASS = "test-captcha-bypass"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest_asyncio.fixture(scope="module", loop_scope="session", autouse=True)
async def captcha_bypass(api: ApiStack) -> AsyncIterator[None]:
    # SHEBAO_CAPTCHA_BYPASS as acceptance checks set it; this module's app only.
    api.settings.captcha_bypass = BYPASS
    yield
    api.settings.captcha_bypass = None


async def new_captcha(api: ApiStack) -> str:
    r = await api.http.get("/api/v1/captcha")
    assert r.status_code == 200, r.text
    return str(r.json()["captcha_id"])


async def known_captcha(
    api: ApiStack, answer: str, *, ttl: timedelta = timedelta(minutes=5)
) -> str:
    """A captcha whose answer the test knows (the image route never reveals it)."""
    captcha_id = f"cap_test_{answer}_{datetime.now(UTC).timestamp()}"
    now = datetime.now(UTC)
    async with api.sessions.begin() as db:
        await captchas.add_captcha(
            db,
            captcha_id=captcha_id,
            answer_hash=answer_hash(answer),
            client_key="test",
            at=now,
            expires_at=now + ttl,
        )
    return captcha_id


async def request_certificate(
    api: ApiStack,
    payer: Payer,
    *,
    captcha_id: str | None = None,
    answer: str = BYPASS,
    **period: str,
) -> httpx.Response:
    body = {
        "from": period.get("from_", f"{today().year}-01"),
        "to": period.get("to", f"{today().year}-12"),
        "captcha_id": captcha_id or await new_captcha(api),
        "captcha_answer": answer,
    }
    return await api.http.post("/api/v1/certificates", json=body, headers=payer.auth)


async def paid_and_completed(api: ApiStack, payer: Payer) -> dict[str, Any]:
    started = await api.quote_and_start(payer)
    paid = await api.pay(started["payment"]["out_trade_no"])
    assert paid.status_code == 200, paid.text
    return await api.wait_for(
        payer, started["contribution_id"], lambda v: v["status"] == "COMPLETED"
    )


def pdf_text(pdf: bytes) -> str:
    """The PDF's text by pypdf, without whitespace and NULs.

    pypdf misreads the embedded CMap fpdf2 writes for CFF fonts (Noto Sans CJK): it decodes
    two-byte codes one byte at a time, adding NULs. poppler_text checks the same text exactly.
    """
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))


def poppler_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler (a PDF viewer's engine) extracts it."""
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout.decode()


# --- captcha -------------------------------------------------------------------------------


async def test_a_captcha_is_a_png_data_url(api: ApiStack) -> None:
    r = await api.http.get("/api/v1/captcha")
    assert r.status_code == 200
    body = r.json()
    prefix = "data:image/png;base64,"
    assert body["image"].startswith(prefix)
    assert base64.b64decode(body["image"][len(prefix) :]).startswith(PNG_MAGIC)
    assert body["captcha_id"] and body["expires_at"].endswith("+08:00")


async def test_the_right_answer_in_any_case_passes_the_captcha_once(api: ApiStack) -> None:
    payer = await api.register()
    captcha_id = await known_captcha(api, "AB3CD")
    first = await request_certificate(api, payer, captcha_id=captcha_id, answer="ab3cd")
    # Past the captcha: this payer simply has nothing to certify.
    assert (first.status_code, first.json()["code"]) == (404, "NOTHING_TO_CERTIFY")
    again = await request_certificate(api, payer, captcha_id=captcha_id, answer="AB3CD")
    assert (again.status_code, again.json()["code"]) == (422, "CAPTCHA_INVALID")
    assert again.json()["field"] == "captcha_answer"


async def test_a_wrong_answer_spends_the_captcha(api: ApiStack) -> None:
    payer = await api.register()
    captcha_id = await known_captcha(api, "XY7Z")
    wrong = await request_certificate(api, payer, captcha_id=captcha_id, answer="XY7Q")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "CAPTCHA_INVALID")
    right = await request_certificate(api, payer, captcha_id=captcha_id, answer="XY7Z")
    assert (right.status_code, right.json()["code"]) == (422, "CAPTCHA_INVALID")


async def test_an_expired_or_unknown_captcha_is_refused_even_with_the_bypass(api: ApiStack) -> None:
    payer = await api.register()
    expired = await known_captcha(api, "EXP4", ttl=timedelta(seconds=-1))
    for captcha_id, answer in ((expired, "EXP4"), (expired, BYPASS), ("cap_unknown", BYPASS)):
        r = await request_certificate(api, payer, captcha_id=captcha_id, answer=answer)
        assert (r.status_code, r.json()["code"]) == (422, "CAPTCHA_INVALID")


async def test_one_client_fetching_too_many_captchas_is_slowed_down(api: ApiStack) -> None:
    transport = api.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    other_ip = httpx.ASGITransport(app=transport.app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=other_ip, base_url="http://testserver") as http:
        answers = [(await http.get("/api/v1/captcha")).status_code for _ in range(25)]
    limit = api.settings.captcha_per_minute
    assert answers[:limit] == [200] * limit
    assert set(answers[limit:]) == {429}
    # Another client is not affected.
    assert (await api.http.get("/api/v1/captcha")).status_code == 200


# --- certificates --------------------------------------------------------------------------


async def test_paid_months_not_yet_in_the_treasury_get_409_with_the_expected_date(
    api: ApiStack,
) -> None:
    payer = await api.register()
    await posting_contribution(api, payer, f"{today().year}-02")
    r = await request_certificate(api, payer)
    body = r.json()
    assert (r.status_code, body["code"], body["expected_date"]) == (
        409,
        "NOT_YET_IN_TREASURY",
        "2099-01-05",
    )
    assert "国库" in body["message"]


@pytest.mark.parametrize("name", ["王㛃", "阿依古丽·买买提"])
async def test_a_certificate_of_money_in_the_treasury_with_its_pdf(
    api: ApiStack, name: str, tmp_path: Path
) -> None:
    payer = await api.register(name)
    view = await paid_and_completed(api, payer)
    # Another paid month still on its way: left off the certificate, named in the answer.
    other_month = next(m for m in (f"{today().year}-01", f"{today().year}-02") if m != this_month())
    await posting_contribution(api, payer, other_month)

    r = await request_certificate(api, payer)
    assert r.status_code == 201, r.text
    cert = r.json()
    assert re.fullmatch(r"SB\d{16}", cert["certificate_no"])
    assert len(cert["verify_code"]) >= 8
    treasury_date = view["treasury_date"]
    assert cert["lines"] == [
        {
            "month": this_month(),
            "insurance": "pension",
            "amount_fen": 87267,
            "treasury_date": treasury_date,
        }
    ]
    assert cert["total_fen"] == 87267
    assert [p["expected_date"] for p in cert["not_yet_in_treasury"]] == ["2099-01-05"]

    # The PDF with the token, and by the link the answer gives (with the verify code).
    with_token = await api.http.get(
        f"/api/v1/certificates/{cert['certificate_no']}.pdf", headers=payer.auth
    )
    by_link = await api.http.get(cert["pdf_url"])
    assert with_token.status_code == by_link.status_code == 200
    assert with_token.headers["content-type"] == "application/pdf"
    assert with_token.content == by_link.content
    text = pdf_text(with_token.content)
    last_day = Month.parse(this_month()).last_day()
    for expected in (
        "税收完税证明",
        cert["certificate_no"],
        f"填发日期：{today():%Y年%m月%d日}",
        "国家税务总局贵阳市税务局",
        name,
        payer.id_number,  # in full: the payer downloads their own
        "社会保险费",
        "企业职工基本养老保险费",
        f"{this_month()}-01至{last_day:%Y-%m-%d}",
        treasury_date,
        "872.67",
        "捌佰柒拾贰元陆角柒分",
        cert["verify_code"],
        # The QR code and the printed link open the page a person reads, not the JSON route.
        f"/h5/verify/{cert['certificate_no']}?code={cert['verify_code']}",
    ):
        assert expected in text, expected
    assert "/api/v1/certificates/" not in text
    exact = poppler_text(with_token.content, tmp_path)
    assert name in exact.split()  # whole, in one piece, as a viewer copies it
    # The QR code is an image on the page.
    assert len(PdfReader(io.BytesIO(with_token.content)).pages[0].images) == 1

    assert cert["verify_url"].endswith(
        f"/h5/verify/{cert['certificate_no']}?code={cert['verify_code']}"
    )
    page = await api.http.get(cert["verify_url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    verified = await api.http.get(
        f"/api/v1/certificates/{cert['certificate_no']}/verify?code={cert['verify_code']}"
    )
    assert verified.status_code == 200
    assert verified.json() | {"issued_at": None} == {
        "valid": True,
        "certificate_no": cert["certificate_no"],
        "payer": name[0] + "*" * (len(name) - 1),
        # Masked on the public route, whole only on the payer's PDF.
        "id_number_masked": mask_id(payer.id_number),
        "total_fen": 87267,
        "issued_at": None,
        "from_month": f"{today().year}-01",
        "to_month": f"{today().year}-12",
    }


async def test_the_pdf_and_verification_reveal_nothing_without_the_right_code(
    api: ApiStack,
) -> None:
    owner = await api.register("周九")
    other = await api.register("吴十")
    await paid_and_completed(api, owner)
    cert = (await request_certificate(api, owner)).json()
    no = cert["certificate_no"]
    wrong_code = "A" * 10 if cert["verify_code"] != "A" * 10 else "B" * 10

    anonymous = await api.http.get(f"/api/v1/certificates/{no}.pdf")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    for path, headers in (
        (f"/api/v1/certificates/{no}.pdf", other.auth),
        (f"/api/v1/certificates/{no}.pdf?code={wrong_code}", {}),
        (f"/api/v1/certificates/{no}/verify?code={wrong_code}", {}),
        (f"/api/v1/certificates/SB2026010112345678/verify?code={cert['verify_code']}", {}),
        (f"/api/v1/certificates/not-a-number/verify?code={cert['verify_code']}", {}),
        ("/api/v1/certificates/SB2026010112345678.pdf?code=X", {}),
    ):
        r = await api.http.get(path, headers=headers)
        body = r.json()
        assert (r.status_code, body["code"], body["valid"]) == (
            404,
            "CERTIFICATE_NOT_FOUND",
            False,
        ), path
        assert set(body) == {"code", "message", "field", "valid"}
    # The code is typed from paper: any case will do.
    r = await api.http.get(f"/api/v1/certificates/{no}/verify?code={cert['verify_code'].lower()}")
    assert r.json()["valid"] is True


async def test_nothing_paid_in_the_period_is_404_nothing_to_certify(api: ApiStack) -> None:
    payer = await api.register()
    await posting_contribution(api, payer, f"{today().year}-02")
    r = await request_certificate(
        api, payer, from_=f"{today().year - 1}-01", to=f"{today().year - 1}-12"
    )
    assert (r.status_code, r.json()["code"]) == (404, "NOTHING_TO_CERTIFY")


async def test_bad_certificate_requests_get_the_envelope(api: ApiStack) -> None:
    payer = await api.register()
    good = {"from": "2026-01", "to": "2026-12", "captcha_id": "c", "captcha_answer": "x"}
    cases: list[tuple[Any, int, str, str | None]] = [
        ({**good, "from": "2026-1"}, 422, "INVALID_MONTH", "from"),
        ({**good, "to": "2026-13"}, 422, "INVALID_MONTH", "to"),
        ({**good, "from": "2026-06", "to": "2026-05"}, 422, "INVALID_PERIOD", "to"),
        (
            {k: v for k, v in good.items() if k != "captcha_id"},
            422,
            "VALIDATION_ERROR",
            "captcha_id",
        ),
        ({**good, "captcha_answer": "x" * 100}, 422, "VALIDATION_ERROR", "captcha_answer"),
        ({**good, "captcha_answer": 5}, 422, "VALIDATION_ERROR", "captcha_answer"),
        ({**good, "insurance": "dental"}, 422, "VALIDATION_ERROR", "insurance"),
        (["not", "an", "object"], 422, "VALIDATION_ERROR", None),
        ({**good}, 422, "CAPTCHA_INVALID", "captcha_answer"),
    ]
    for body, status, code, field in cases:
        r = await api.http.post("/api/v1/certificates", json=body, headers=payer.auth)
        got = r.json()
        assert (r.status_code, got["code"], got["field"]) == (status, code, field), body
        assert got["message"]
    raw = await api.http.post(
        "/api/v1/certificates",
        content=b"{not json",
        headers={**payer.auth, "content-type": "application/json"},
    )
    assert (raw.status_code, raw.json()["code"]) == (400, "INVALID_JSON")
    unauthenticated = await api.http.post("/api/v1/certificates", json=good)
    assert (unauthenticated.status_code, unauthenticated.json()["code"]) == (401, "UNAUTHENTICATED")
    missing_code = await api.http.get("/api/v1/certificates/SB2026010112345678/verify")
    assert (missing_code.status_code, missing_code.json()["field"]) == (422, "code")
    long_code = await api.http.get("/api/v1/certificates/SB1/verify?code=" + "x" * 100)
    assert (long_code.status_code, long_code.json()["code"]) == (422, "VALIDATION_ERROR")
