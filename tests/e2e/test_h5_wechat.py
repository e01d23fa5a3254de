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
    await expect(page.locator("#wechat-choice")).to_be_visible()
    await expect(page.locator("#channels")).to_be_hidden()
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
    # What actually paid, as WeChat's notification said (bank_type), not a choice on our page.
    await expect(page.locator("#channel")).to_have_text("银行卡")

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


async def test_a_returning_payer_is_recognised_until_they_unbind(
    stack: Stack, wechat_tab: NewTab
) -> None:
    person = await stack.register("微信乙")
    other = await stack.register("微信丙")
    openid, others_openid = "oE2eWeChatPayerB0000000000001", "oE2eWeChatPayerC0000000000001"
    first = await wechat_tab(openid)
    await _through_oauth(first)
    await sign_in_here(first, person)
    await expect(first.locator("#wechat-unbind")).to_be_visible()
    # Another WeChat user on another phone is not this payer.
    stranger = await wechat_tab(others_openid)
    await _through_oauth(stranger)
    await sign_in_here(stranger, other)
    await expect(stranger.locator("#who strong")).to_have_text("微**")

    # Next visit from the 公众号 menu (a new tab, no session): signed in without the form.
    again = await wechat_tab(openid)
    await _through_oauth(again)
    await at(again, "社保费功能列表")
    await expect(again.locator("#who strong")).to_have_text("微**")
    assert await again.evaluate("sessionStorage.getItem('sb.me')") is not None
    me = await again.evaluate("JSON.parse(sessionStorage.getItem('sb.me')).payer_ref")
    assert me == person.payer_ref

    await again.click("#wechat-unbind")
    await expect(again.locator("#wechat-note")).to_have_text("已解除微信绑定")
    await expect(again.locator("#wechat-unbind")).to_be_hidden()
    later = await wechat_tab(openid)
    await _through_oauth(later)
    await at(later, "用户认证")
    # The other payer's binding is untouched.
    theirs = await wechat_tab(others_openid)
    await _through_oauth(theirs)
    await at(theirs, "社保费功能列表")
    me = await theirs.evaluate("JSON.parse(sessionStorage.getItem('sb.me')).payer_ref")
    assert me == other.payer_ref


async def test_a_callback_without_this_browsers_state_and_a_forged_pay_sign_are_refused(
    stack: Stack, wechat_tab: NewTab
) -> None:
    forged = await stack.http.get("/h5/oauth/callback", params={"code": "c", "state": "s"})
    assert forged.status_code == 400
    assert forged.json()["code"] == "OAUTH_STATE_INVALID"
    # Outside WeChat the pages answer at once, as before.
    plain = await stack.http.get("/h5/", headers={"User-Agent": "Mozilla/5.0 Chrome/126"})
    assert plain.status_code == 200 and "jsbridge.js" not in plain.text
    inside = await stack.http.get("/h5/menu", headers={"User-Agent": WECHAT_UA})
    assert inside.status_code == 302
    assert "/connect/oauth2/authorize?" in inside.headers["location"]
    assert inside.headers["location"].endswith("#wechat_redirect")
    # An openid cookie the browser made up (or altered) is no openid.
    made_up = {"User-Agent": WECHAT_UA, "Cookie": "sb_wx=b3BlbmlkfDk5OTk5OTk5OTl8b0Zha2U.AAAA"}
    assert (await stack.http.get("/h5/menu", headers=made_up)).status_code == 302
    silent = await stack.http.post("/api/v1/session/wechat", headers=made_up)
    assert silent.status_code == 404 and silent.json()["code"] == "WECHAT_NOT_BOUND"

    person = await stack.register("微信丁")
    page = await wechat_tab("oE2eWeChatPayerD0000000000001")
    await _through_oauth(page)
    await sign_in_here(page, person)
    token = await page.evaluate("sessionStorage.getItem('sb.token')")
    auth = {"Authorization": f"Bearer {token}"}
    body = {"payer_ref": "me", "months": [this_month()], "back_payment": False, "grade": 60}
    quote = await page.request.post("/api/v1/quotes", data=body, headers=auth)
    started = await page.request.post(
        "/api/v1/contributions",
        data={"quote_id": (await quote.json())["quote_id"], "channel": "wechat_balance"},
        headers={**auth, "Idempotency-Key": "wechat-forged-1"},
    )
    assert started.status == 201
    params = (await started.json())["payment"]["jsapi"]
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    ok = await stack.http.post("/sim/wechat/jsapi/order", json={"params": params})
    assert ok.status_code == 200 and ok.json()["payable"] is True
    tampered = {**params, "timeStamp": str(int(params["timeStamp"]) + 1)}
    refused = await stack.http.post(
        "/sim/wechat/jsapi/pay", json={"params": tampered, "method": "balance"}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "SIGN_ERROR"
