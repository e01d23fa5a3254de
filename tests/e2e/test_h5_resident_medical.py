"""城乡居民基本医疗保险 in Chromium: a payer pays the coverage year for themselves and for another
person through the manual's pages (缴费信息确认 → 应缴费额确认 → 缴款方式 → result), then finds it
in the records."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import OPERATOR_TOKEN, Stack
from tests.e2e.flows import at, pay_at_cashier, sign_in, wait_for_status
from tests.support import open_resident_medical_now

pytestmark = pytest.mark.devserver

MEDICAL = "resident_medical"


async def _pay_the_coverage_year(page: Page, year: int) -> None:
    """On 缴费信息确认 (the person chosen): the coverage year, no grades → paid by 零钱."""
    await at(page, "缴费信息确认")
    await expect(page.locator("#insurance")).to_have_value(MEDICAL)
    await expect(page.locator("#months-title")).to_have_text("缴费年度")
    box = page.locator("#months input[name=month]")
    await expect(box).to_have_count(1)
    await expect(box).to_have_value(f"{year}-01")
    await expect(box).to_be_checked()
    await expect(page.locator("#months")).to_contain_text(f"{year}年度")
    await expect(page.locator("#grades-group")).to_be_hidden()
    await expect(page.locator("#back-row")).to_be_hidden()
    await page.click("#next")
    await at(page, "应缴费额确认")
    await expect(page.locator("#insurance")).to_have_text("城乡居民基本医疗保险")
    await expect(page.locator("#grade-row")).to_be_hidden()
    await expect(page.locator("#lines tbody tr")).to_have_count(1)
    await expect(page.locator("#lines tbody tr")).to_contain_text(f"{year}年度")
    await expect(page.locator("#total")).to_have_text("400.00")
    await page.click("#next")
    await at(page, "缴款方式")
    await page.click("#pay")
    await pay_at_cashier(page)
    await wait_for_status(page, "COMPLETED")
    await expect(page.locator("#months")).to_have_text(f"{year}年度")


async def test_a_payer_pays_resident_medical_for_themselves_and_for_another(
    stack: Stack, page: Page
) -> None:
    year = await open_resident_medical_now(stack.http, OPERATOR_TOKEN)
    me = await stack.register("赵春梅", insurance=MEDICAL)
    other = await stack.register("赵小米", insurance=MEDICAL)
    await sign_in(page, me)
    await page.click("#self-pay")
    await _pay_the_coverage_year(page, year)

    await page.goto("/h5/menu")
    await at(page, "社保费功能列表")
    await page.click("#other-pay")
    await at(page, "缴费人信息")
    await page.fill("#id_number", other.id_number)
    await page.fill("#name", other.name)
    await page.click("#next")
    await expect(page.locator("#payer-name")).to_have_text("赵**")
    await _pay_the_coverage_year(page, year)

    # One line per coverage year in the payer's own records (the coverage year is next year).
    await page.goto("/h5/records")
    await at(page, "个人社保费查询")
    await page.select_option("#year", str(year))
    await page.click("#search")
    rows = page.locator("#records tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(f"{year}年度")
    await expect(rows.first).to_contain_text("400.00")
