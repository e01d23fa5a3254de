"""The payment flows of the manual in Chromium at phone size: sign-in, self, back, other, refund."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from domain.months import Month
from tests.e2e.conftest import CAPTCHA_BYPASS, Shooter, Stack
from tests.e2e.flows import at, choose_and_quote, pay_at_cashier, sign_in, wait_for_status
from tests.support import this_month, today

pytestmark = pytest.mark.devserver

MANUAL_NOTE = "扣款成功后可能会存在缴费失败情况，这时将在2-5个工作日按原渠道退还费款"


async def test_root_redirects_to_the_sign_in_page_and_only_our_files_are_served(
    stack: Stack,
) -> None:
    r = await stack.http.get("/")
    assert r.status_code == 307
    assert r.headers["location"] == "/h5/"
    css = await stack.http.get("/h5/static/h5.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    for missing in ("/h5/static/routes.py", "/h5/static/..%2Froutes.py", "/h5/pay/result/a%2Fb"):
        r = await stack.http.get(missing)
        assert r.status_code == 404
        assert r.json()["code"] == "NOT_FOUND"


async def test_the_cashier_returns_only_to_our_own_pages(stack: Stack) -> None:
    person = await stack.register("郑十二")
    signed = await stack.http.post("/api/v1/session", json=person.trio)
    auth = {"Authorization": f"Bearer {signed.json()['token']}"}
    body = {"payer_ref": "me", "months": [this_month()], "back_payment": False, "grade": 60}
    quote = await stack.http.post("/api/v1/quotes", json=body, headers=auth)
    started = await stack.http.post(
        "/api/v1/contributions",
        json={"quote_id": quote.json()["quote_id"], "channel": "wechat_balance"},
        headers={**auth, "Idempotency-Key": "cashier-return-1"},
    )
    cashier = started.json()["payment"]["cashier_url"]
    ours = await stack.http.get(cashier, params={"return": "/h5/pay/result/abc"})
    assert 'id="back" href="/h5/pay/result/abc"' in ours.text
    for foreign in ("https://evil.example/h5/", "//evil.example/h5/", "/h5//evil.example", "/api/"):
        page = await stack.http.get(cashier, params={"return": foreign})
        assert page.status_code == 200
        assert 'id="back"' not in page.text
        assert "evil" not in page.text


async def test_wrong_name_is_refused_without_saying_which_field(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("赵六")
    await page.goto("/h5/")
    await at(page, "用户认证")
    await page.select_option("#id_type", person.id_type)
    await page.fill("#id_number", person.id_number)
    await page.fill("#name", "赵七")
    await page.click("#submit")
    form_error = page.locator(".form-error")
    await expect(form_error).to_have_text("证件信息与参保登记信息不一致")
    await shoot(page, "01b-sign-in-mismatch")
    for name in ("id_type", "id_number", "name"):
        await expect(page.locator(f"[data-error-for={name}]")).to_be_empty()
    await at(page, "用户认证")


async def test_after_repeated_failures_the_page_asks_for_a_captcha_and_the_person_gets_in(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("褚十三")
    # Someone else tried the person's number with wrong names until the budget was spent.
    for _ in range(stack.settings.identity_failures_before_captcha):
        r = await stack.http.post("/api/v1/session", json={**person.trio, "name": "褚某某"})
        assert r.status_code == 401
    await page.goto("/h5/")
    await at(page, "用户认证")
    await page.select_option("#id_type", person.id_type)
    await page.fill("#id_number", person.id_number)
    await page.fill("#name", person.name)
    await page.click("#submit")
    captcha = page.locator("[data-captcha]")
    await expect(captcha).to_be_visible()
    await expect(page.locator("[data-error-for=captcha_answer]")).to_contain_text("验证码")
    image = page.locator("[data-captcha-image]")
    await expect(image).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    await shoot(page, "01c-sign-in-captcha")
    # A wrong answer: a fresh image, and the person may try again.
    first = await image.get_attribute("src")
    await page.fill("[name=captcha_answer]", "WRONG")
    await page.click("#submit")
    await expect(page.locator("[data-error-for=captcha_answer]")).to_contain_text("验证码")
    await expect(image).not_to_have_attribute("src", first or "")
    await page.fill("[name=captcha_answer]", CAPTCHA_BYPASS)
    await page.click("#submit")
    await at(page, "社保费功能列表")


async def test_signing_out_ends_the_session_on_the_server(stack: Stack, page: Page) -> None:
    person = await stack.register("韩十四")
    await sign_in(page, person)
    token = await page.evaluate("() => sessionStorage.getItem('sb.token')")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await stack.http.get("/api/v1/records", headers=auth)).status_code == 200
    await page.click("#sign-out")
    await at(page, "用户认证")
    r = await stack.http.get("/api/v1/records", headers=auth)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")


async def test_a_bad_id_number_is_shown_beside_the_number(stack: Stack, page: Page) -> None:
    await page.goto("/h5/")
    await at(page, "用户认证")
    await page.fill("#id_number", "520102198805170312")
    await page.fill("#name", "王五")
    await page.click("#submit")
    await expect(page.locator("[data-error-for=id_number]")).to_contain_text("证件号码格式不正确")
    await expect(page.locator(".form-error")).to_be_empty()


async def test_self_payment_follows_the_contribution_to_certificate_ready(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("王㛃")
    await sign_in(page, person, shoot)
    await shoot(page, "02-menu")
    await page.click("#self-pay")
    await expect(page.locator("#payer-name")).to_have_text("王*")
    # Nothing paid yet: the counter of contribution years against the minimum in force at
    # the person's retirement (15 to 20 years, by the year).
    await expect(page.locator("#contribution-years")).to_have_text(
        re.compile(r"^已缴0个月，最低缴费年限(\d+)年(6个月)?，尚差\1年(6个月)?$")
    )
    await choose_and_quote(page, grade=60, months=[this_month()], shoot=shoot)
    await expect(page.locator("#lines tbody tr")).to_have_count(1)
    await expect(page.locator("#kind")).to_have_text("正常缴费")
    monthly = (await page.locator("#lines tbody td").last.text_content()) or ""
    await expect(page.locator("#total")).to_have_text(monthly)
    await shoot(page, "04-pay-amount")
    await page.click("#next")
    await at(page, "缴款方式")
    await shoot(page, "05-pay-method")
    await page.click("#pay")
    await expect(page.locator("header")).to_have_text("微信支付")
    await shoot(page, "06-cashier")
    await pay_at_cashier(page)
    await wait_for_status(page, "COMPLETED")
    await expect(page.locator("#status-label")).to_contain_text("可开具完税证明")
    await expect(page.locator("#steps li.done")).to_have_count(5)
    await expect(page.locator("#expected-date")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    await expect(page.locator("#transaction-id")).not_to_have_text("—")
    await expect(page.locator("#to-certificates")).to_be_visible()
    await expect(page.locator("#refund")).to_be_hidden()
    await expect(page.locator("#go-pay")).to_be_hidden()
    await shoot(page, "07-pay-result")


async def test_back_payment_lists_the_arrears_and_pays_them_by_bank_card(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    now = Month.from_date(today())
    if now.month == 1:
        pytest.skip("in January no month of this year is owed")
    person = await stack.register("阿依古丽·买买提")
    owed = [str(Month(now.year, m)) for m in range(1, now.month)]
    await sign_in(page, person)
    await page.click("#self-pay")
    await expect(page.locator("#grades input[name=grade]").first).to_be_visible()
    await page.check("#back-yes")
    await expect(page.locator("#months input[name=month]")).to_have_count(len(owed))
    chosen = owed[:2]
    await choose_and_quote(
        page, grade=100, months=chosen, back_payment=True, shoot=shoot, shot_name="03b-back-payment"
    )
    await expect(page.locator("#kind")).to_have_text("补缴")
    await expect(page.locator("#lines-title")).to_have_text("需补缴的社保费")
    await expect(page.locator("#lines tbody tr")).to_have_count(len(chosen))
    await shoot(page, "04b-back-payment-amount")
    await page.click("#next")
    await at(page, "缴款方式")
    await page.check("input[value=bank_card]")
    await page.click("#pay")
    await pay_at_cashier(page, "bank_card")
    await wait_for_status(page, "COMPLETED")
    await expect(page.locator("#channel")).to_have_text("银行卡")
    await expect(page.locator("#months")).to_have_text(
        "、".join(f"{m[:4]}年{m[5:]}月" for m in chosen)
    )


async def test_paying_for_another_person_pays_their_month(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    me = await stack.register("李建国")
    other = await stack.register("陈大文")
    await sign_in(page, me)
    await page.click("#other-pay")
    await at(page, "缴费人信息")
    await page.fill("#id_number", other.id_number)
    await page.fill("#name", "陈小文")
    await page.click("#next")
    await expect(page.locator(".form-error")).to_have_text("证件信息与参保登记信息不一致")
    await shoot(page, "08-other-payer")
    await page.fill("#name", other.name)
    await page.click("#next")
    await expect(page.locator("#payer-name")).to_have_text("陈**")
    await choose_and_quote(page, grade=150, months=[this_month()])
    await page.click("#next")
    await at(page, "缴款方式")
    await page.click("#pay")
    await pay_at_cashier(page)
    await wait_for_status(page, "COMPLETED")
    await expect(page.locator("#payer-name")).to_have_text("陈**")
    assert [row["status"] for row in await stack.contributions_of(other, this_month())] == [
        "COMPLETED"
    ]
    assert await stack.contributions_of(me, this_month()) == []


async def test_a_rejected_posting_is_refunded_and_the_page_says_so(
    stack: Stack, page: Page, shoot: Shooter
) -> None:
    person = await stack.register("钱七")
    await sign_in(page, person)
    await page.click("#self-pay")
    # 80% of one month is paid by no other test here: force that amount's posting to fail.
    await expect(page.locator("#grades input[value='80']")).to_be_attached()
    await choose_and_quote(page, grade=80, months=[this_month()])
    total_text = (await page.locator("#total").text_content()) or ""
    total_fen = int(total_text.replace(",", "").replace(".", ""))
    await stack.systems.simulators.posting.force(total_fen, "REJECTED")
    await page.click("#next")
    await at(page, "缴款方式")
    await page.click("#pay")
    await pay_at_cashier(page)
    await wait_for_status(page, "REFUNDED")
    await expect(page.locator("#refund")).to_be_visible()
    await expect(page.locator("#refund-note")).to_contain_text(MANUAL_NOTE)
    await expect(page.locator("#refund-amount")).to_have_text(total_text)
    await expect(page.locator("#refund-status")).to_have_text("已退回原支付渠道")
    await expect(page.locator("#steps li[data-status=REFUNDED]")).to_have_class("bad")
    await shoot(page, "09-refunded")
    # The record shows the refund at once, with its number, in 缴费明细.
    await page.goto("/h5/records")
    await at(page, "个人社保费查询")
    row = page.locator("#records tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator(".badge")).to_have_text("已退款")
    await row.click()
    await at(page, "缴费明细")
    await expect(page.locator("#refund")).to_be_visible()
    await expect(page.locator("#refund-amount")).to_have_text(total_text)
    await expect(page.locator("#posting-state")).to_have_text("记账失败")


async def test_double_tap_and_coming_back_never_pay_twice(stack: Stack, page: Page) -> None:
    person = await stack.register("孙八")
    await sign_in(page, person)
    await page.click("#self-pay")
    await choose_and_quote(page, grade=200, months=[this_month()])
    await page.click("#next")
    await at(page, "缴款方式")
    await page.locator("#pay").dblclick()
    await expect(page.locator("header")).to_have_text("微信支付")
    first_cashier = page.url
    # Back to 缴款方式 (as after a refresh) and tap again: the same order, not a second one.
    await page.go_back()
    await at(page, "缴款方式")
    await page.reload()
    await at(page, "缴款方式")
    await page.click("#pay")
    await expect(page.locator("header")).to_have_text("微信支付")
    assert page.url == first_cashier
    rows = await stack.contributions_of(person, this_month())
    assert len(rows) == 1
    await pay_at_cashier(page)
    await wait_for_status(page, "COMPLETED")
