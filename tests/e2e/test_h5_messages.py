"""我的消息 and 缴费提醒 in the browser: the messages a payment and a refund leave, the opt-in."""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, expect

from tests.e2e.conftest import Shooter, Stack
from tests.e2e.flows import (
    at,
    choose_and_quote,
    pay_at_cashier,
    pay_this_month,
    sign_in,
    wait_for_status,
)
from tests.support import this_month


async def _messages_until(page: Page, kinds: list[str]) -> None:
    """我的消息, reloaded until it lists these kinds, newest first (a message follows its step)."""
    cards = page.locator("#messages .message")
    for _ in range(60):
        await page.goto("/h5/messages")
        await at(page, "我的消息")
        if [await c.get_attribute("data-kind") for c in await cards.all()] == kinds:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"messages never became {kinds}")


async def test_after_a_completed_payment_my_messages_list_the_payment(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("周明")
    await sign_in(page, person)
    await page.click("#messages")
    await at(page, "我的消息")
    await expect(page.locator("#empty")).to_be_visible()
    await page.goto("/h5/menu")
    await at(page, "社保费功能列表")
    await pay_this_month(page, grade=60)
    await _messages_until(page, ["certificate_available", "payment_succeeded"])
    paid = page.locator("#messages .message[data-kind=payment_succeeded]")
    await expect(paid.locator(".title")).to_have_text("缴费成功")
    await expect(paid).to_contain_text(f"{this_month()}")
    await expect(paid).to_contain_text("预计入库日期")
    await expect(page.locator("#messages .message").first.locator(".title")).to_have_text(
        "完税证明可开具"
    )
    await shoot(page, "20-messages")
    await paid.click()
    await at(page, "支付结果")
    await wait_for_status(page, "COMPLETED")


async def test_after_a_refund_my_messages_say_it_started_and_arrived(
    stack: Stack, page: Page
) -> None:
    person = await stack.register("吴芳")
    await sign_in(page, person)
    await page.click("#self-pay")
    await expect(page.locator("#grades input[value='90']")).to_be_attached()
    await choose_and_quote(page, grade=90, months=[this_month()])
    total_text = (await page.locator("#total").text_content()) or ""
    await stack.systems.simulators.posting.force(
        int(total_text.replace(",", "").replace(".", "")), "REJECTED"
    )
    await page.click("#next")
    await at(page, "缴款方式")
    await page.click("#pay")
    await pay_at_cashier(page)
    await wait_for_status(page, "REFUNDED")
    await _messages_until(page, ["refund_arrived", "refund_started", "payment_succeeded"])
    arrived = page.locator("#messages .message").first
    await expect(arrived.locator(".title")).to_have_text("退款已到账")
    await expect(arrived).to_contain_text(total_text.replace(",", "") + "元")
    await expect(page.locator("#messages .message[data-kind=refund_started] .title")).to_have_text(
        "记账未成功，已发起退款"
    )


async def test_reminders_are_turned_on_and_off_on_the_menu(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("郑华")
    await sign_in(page, person)
    box = page.locator("#reminders")
    await expect(box).to_be_enabled()
    await expect(box).not_to_be_checked()
    await box.check()
    await expect(page.locator("#reminders-note")).to_have_text("已开启缴费提醒。")
    await box.scroll_into_view_if_needed()
    await shoot(page, "21-menu-reminders")
    await page.reload()
    await at(page, "社保费功能列表")
    await expect(box).to_be_checked()
    await box.uncheck()
    await expect(page.locator("#reminders-note")).to_have_text("已关闭缴费提醒。")
    await page.reload()
    await at(page, "社保费功能列表")
    await expect(box).not_to_be_checked()
