"""Steps the browser tests share: sign in, walk the payment pages, pay at the cashier."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.e2e.conftest import FLOW_TIMEOUT_MS, Person, Shooter
from tests.support import this_month


async def at(page: Page, title: str) -> None:
    """On the page titled `title`, with its script wired (html[data-ready]) so taps take effect."""
    await expect(page.locator("h1")).to_have_text(title, timeout=FLOW_TIMEOUT_MS)
    await expect(page.locator("html")).to_have_attribute("data-ready", "true")


async def sign_in(page: Page, person: Person, shoot: Shooter | None = None) -> None:
    """用户认证 → 社保费功能列表."""
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/h5/$"))
    await at(page, "用户认证")
    await page.select_option("#id_type", person.id_type)
    await page.fill("#id_number", person.id_number)
    await page.fill("#name", person.name)
    if shoot is not None:
        await shoot(page, "01-sign-in")
    await page.click("#submit")
    await at(page, "社保费功能列表")


async def choose_and_quote(
    page: Page,
    *,
    grade: int,
    months: list[str] | None = None,
    back_payment: bool = False,
    shoot: Shooter | None = None,
    shot_name: str = "03-pay-confirm",
) -> None:
    """缴费信息确认: pick the months (or keep every arrear for 补缴) and the grade → 下一步."""
    await at(page, "缴费信息确认")
    await expect(page.locator("#grades input[name=grade]").first).to_be_visible()
    if back_payment:
        await page.check("#back-yes")
        await expect(page.locator("#months-title")).to_have_text("需补缴的费款所属期")
    if months is not None:
        for box in await page.locator("#months input[name=month]").all():
            value = await box.get_attribute("value")
            await box.set_checked(value in months)
    await page.check(f"#grades input[value='{grade}']")
    if shoot is not None:
        if back_payment:  # the arrears, not the payer info, are what this picture shows
            await page.locator("#months-title").evaluate(
                "t => window.scrollTo(0, t.offsetTop - 52)"
            )
        await shoot(page, shot_name)
    await page.click("#next")
    await at(page, "应缴费额确认")


async def pay_at_cashier(page: Page, channel: str = "wechat_balance") -> None:
    """The simulated WeChat cashier: pay, and it returns to 支付结果."""
    await expect(page.locator("header")).to_have_text("微信支付")
    await page.wait_for_function("typeof pay === 'function'")
    button = "零钱支付" if channel == "wechat_balance" else "银行卡支付"
    await page.get_by_role("button", name=button).click()
    await at(page, "支付结果")


async def wait_for_status(page: Page, status: str) -> None:
    """支付结果 follows the contribution live: wait until it shows `status`."""
    await expect(page.locator("#result")).to_have_attribute(
        "data-status", status, timeout=FLOW_TIMEOUT_MS
    )


async def pay_this_month(page: Page, grade: int) -> None:
    """From 社保费功能列表: 自主缴费 of this month at `grade` by 零钱, until 可开具完税证明."""
    await page.click("#self-pay")
    await choose_and_quote(page, grade=grade, months=[this_month()])
    await page.click("#next")
    await at(page, "缴款方式")
    await page.click("#pay")
    await pay_at_cashier(page)
    await wait_for_status(page, "COMPLETED")
    await page.goto("/h5/menu")
    await at(page, "社保费功能列表")
