"""社保费申报查询 and 完税证明查询 in Chromium: records and details, a certificate, PDF, verify."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from domain.identity import mask_id, mask_name
from storage.db import make_engine
from storage.models import Contribution
from tests.e2e.conftest import CAPTCHA_BYPASS, Shooter, Stack
from tests.e2e.flows import at, pay_this_month, sign_in
from tests.support import this_month, today

pytestmark = pytest.mark.devserver


def month_label(month: str) -> str:
    return f"{month[:4]}年{month[5:]}月"


async def test_records_show_this_years_months_at_once_and_open_their_details(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("周九")
    other = await stack.register("吴十")
    await sign_in(page, person)
    await pay_this_month(page, grade=70)
    await page.click("#records")
    await at(page, "个人社保费查询")
    await expect(page.locator("#year")).to_have_value(str(today().year))
    rows = page.locator("#records tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator("td").first).to_have_text(month_label(this_month()))
    await expect(rows.first.locator(".badge")).to_have_text("已完成（可开具完税证明）")
    # The counter of contribution years against the minimum in force at retirement.
    await expect(page.locator("#contribution-years")).to_have_text(
        re.compile(r"^已缴1个月，最低缴费年限\d+年(6个月)?，尚差\d+年\d+个月$")
    )
    await shoot(page, "10-records")

    # As if the expected date had been computed in a provisional calendar year.
    (paid,) = await stack.contributions_of(person, this_month())
    engine = make_engine(stack.settings.resolved_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(Contribution)
                .where(Contribution.id == paid["contribution_id"])
                .values(expected_treasury_provisional=True)
            )
    finally:
        await engine.dispose()
    await rows.first.click()
    await at(page, "缴费明细")
    await expect(page.locator("#month")).to_have_text(month_label(this_month()))
    await expect(page.locator("#out-trade-no")).to_have_text(re.compile(r"^SB\w+$"))
    await expect(page.locator("#transaction-id")).not_to_have_text("—")
    await expect(page.locator("#posting-state")).to_have_text("已记账")
    await expect(page.locator("#treasury-date")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    await expect(page.locator("#expected-date")).to_have_text(
        re.compile(r"^预计 \d{4}-\d{2}-\d{2}（节假日安排尚未公布）$")
    )
    await expect(page.locator("#refund")).to_be_hidden()
    await shoot(page, "11-record-detail")

    # Another person: their trio is needed; a wrong name is refused like at sign-in.
    await page.goto("/h5/records")
    await at(page, "个人社保费查询")
    await page.check("#other")
    await page.fill("#id_number", other.id_number)
    await page.fill("#name", "吴十一")
    await page.click("#search")
    await expect(page.locator(".form-error")).to_have_text("证件信息与参保登记信息不一致")
    await page.fill("#name", other.name)
    await page.click("#search")
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator(".form-error")).to_be_empty()

    # Another year: nothing paid then.
    await page.uncheck("#other")
    await page.select_option("#year", str(today().year - 1))
    await page.click("#search")
    await expect(page.locator("#empty")).to_be_visible()
    await page.select_option("#year", str(today().year))
    await page.click("#search")
    await expect(rows).to_have_count(1)


@pytest.mark.parametrize("name", ["王㛃", "阿依古丽·买买提"])
async def test_a_certificate_is_issued_with_its_pdf_and_verified(
    stack: Stack, page: Page, shoot: Shooter, name: str, tmp_path: Path
) -> None:
    person = await stack.register(name)
    await sign_in(page, person)
    await pay_this_month(page, grade=90)
    await page.click("#certificates")
    await at(page, "完税证明查询")
    await expect(page.locator("#captcha-image")).to_have_attribute(
        "src", re.compile(r"^data:image/png;base64,")
    )
    await expect(page.locator("#from")).to_have_value(f"{today().year}-01")
    await expect(page.locator("#to")).to_have_value(this_month())
    await page.select_option("#from", this_month())
    # A wrong captcha is shown beside the captcha, and a fresh one is drawn.
    await page.fill("#captcha-answer", "0")
    await page.click("#search")
    await expect(page.locator("[data-error-for=captcha_answer]")).not_to_be_empty()
    await expect(page.locator("#certificate")).to_be_hidden()
    await page.fill("#captcha-answer", CAPTCHA_BYPASS)
    await shoot(page, "12-certificate-query")
    await page.click("#search")
    await expect(page.locator("#certificate")).to_be_visible()
    number = (await page.locator("#certificate-no").text_content()) or ""
    total = (await page.locator("#certificate-total").text_content()) or ""
    await expect(page.locator("#certificate-lines tbody tr")).to_have_count(1)
    await shoot(page, "13-certificate")

    href = await page.locator("#pdf-link").get_attribute("href")
    assert href is not None
    response = await page.request.get(href)
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / f"{number}.pdf"
    pdf.write_bytes(await response.body())
    # poppler's pdftotext (as the PDF tests use): text as a reader's viewer would copy it.
    done = await asyncio.create_subprocess_exec(
        "pdftotext", "-enc", "UTF-8", str(pdf), "-", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(done.communicate(), timeout=60)
    assert done.returncode == 0
    text = out.decode()
    figures = "¥" + total.replace(",", "")  # the PDF writes the amount without separators
    for expected in ("税收完税证明", number, name, "社会保险费", "企业职工基本养老保险费", figures):
        assert expected in text, expected
    assert person.id_number in text  # 纳税人识别号 in full on the payer's own PDF

    await page.click("#verify-link")
    await at(page, "完税证明验证")
    await expect(page.locator("#verify")).to_have_attribute("data-valid", "true")
    await expect(page.locator("#verdict")).to_have_text("✓ 完税证明有效")
    await expect(page.locator("#payer")).to_have_text(mask_name(name))
    await expect(page.locator("#id-number")).to_have_text(mask_id(person.id_number))
    await expect(page.locator("#total")).to_have_text(total)
    await shoot(page, "14-verify")

    await page.goto(f"/h5/verify/{number}?code=WRONGCODE1")
    await expect(page.locator("#verify")).to_have_attribute("data-valid", "false")
    await expect(page.locator("#verdict")).to_contain_text("未查询到该完税证明")
    await expect(page.locator("#facts")).to_be_hidden()
