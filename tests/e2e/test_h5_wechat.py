"""Inside WeChat (a MicroMessenger user agent): silent 网页授权, sign-in that binds the openid,
JSAPI payment through the WeixinJSBridge shim's cashier, a returning payer, unbinding."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from domain.order_numbers import payment_order_no
from tests.e2e.conftest import PHONE, Person, Shooter, Stack
from tests.e2e.flows import at, choose_and_quote, wait_for_status
from tests.support import this_month

pytestmark = pytest.mark.devserver

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI "
    "Language/zh_CN"
)
# The cookie the simulated WeChat keeps its user's test openid in (simulators/wechat/oauth.py).
SIM_OPENID_COOKIE = "sim_wx_openid"

NewTab = Callable[[str], Awaitable[Page]]


@pytest_asyncio.fixture(loop_scope="session")
async def wechat_tab(browser: Browser, stack: Stack) -> AsyncIterator[NewTab]:
    """Tabs of WeChat's browser, each its own browser context, signed into WeChat as `openid`."""
    contexts: list[BrowserContext] = []

    async def new_tab(openid: str) -> Page:
        context = await browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=stack.base_url,
            user_agent=WECHAT_UA,
        )
        context.set_default_timeout(15_000)
        await context.add_cookies(
            [{"name": SIM_OPENID_COOKIE, "value": openid, "url": stack.base_url}]
        )
        contexts.append(context)
        return await context.new_page()

    try:
        yield new_tab
    finally:
        for context in contexts:
            await context.close()


async def _through_oauth(page: Page, path: str = "/h5/") -> list[str]:
    """Open `path` as from the 公众号 menu; the URLs the browser was sent through."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.is_navigation_request() else None)
    await page.goto(path)
    return sent


async def test_a_payer_inside_wechat_is_authorised_silently_signs_in_and_pays_by_bank_card(
    stack: Stack, wechat_tab: NewTab, shoot: Shooter
) -> None:
    person = await stack.register("微信甲")
    openid = "oE2eWeChatPayerA0000000000001"
    page = await wechat_tab(openid)
    sent = await _through_oauth(page)
    authorize = [u for u in sent if "/connect/oauth2/authorize" in u]
    assert len(authorize) == 1
    assert "scope=snsapi_base" in authorize[0] and "response_type=code" in authorize[0]
    assert any("/h5/oauth/callback?code=" in u for u in sent)
    await expect(page).to_have_url(re.compile(r"/h5/(#wechat_redirect)?$"))
    # Not bound yet: the sign-in form, as outside WeChat.
    await sign_in_here(page, person)

    await page.click("#self-pay")
    await choose_and_quote(page, grade=60, months=[this_month()])
    await page.click("#next")
    await at(page, "缴款方式")
    await page.click("#pay")
    # WeChat's cashier opens over our page (the shim, with the simulators on).
    cashier = page.get_by_role("dialog", name="微信支付")
    await expect(cashier).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/h5/pay/method"))
    await cashier.get_by_text("工商银行储蓄卡").click()
    await shoot(page, "15-wechat-cashier")
    await page.click("#wx-pay")
    await at(page, "支付结果")
    await wait_for_status(page, "COMPLETED")

    contribution_id = page.url.rsplit("/", 1)[-1]
    sim = stack.systems.simulators.payments
    assert sim is not None
    order = await sim.order(payment_order_no(contribution_id))
    assert order.payer_openid == openid
    assert order.bank_type == "ICBC_DEBIT"


async def sign_in_here(page: Page, person: Person) -> None:
    """The sign-in form on the current page (no navigation), to 社保费功能列表."""
    await at(page, "用户认证")
    await page.select_option("#id_type", person.id_type)
    await page.fill("#id_number", person.id_number)
    await page.fill("#name", person.name)
    await page.click("#submit")
    await at(page, "社保费功能列表")
