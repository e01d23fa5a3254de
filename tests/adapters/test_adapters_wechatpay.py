"""The real WeChat Pay adapter against the local gateway: signatures both ways, faults, bills."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.errors import (
    AdapterError,
    AuthError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
)
from adapters.payments.interface import CreateOrder, OrderCreated, RefundRequest
from adapters.payments.wechatpay.client import WeChatPayChannel
from adapters.payments.wechatpay.crypto import (
    generate_private_key_pem,
    load_public_key,
    public_pem_of,
    response_message,
    verify,
    verify_jsapi_pay_params,
)
from adapters.payments.wechatpay.states import TradeState
from domain.payments import PaymentState, RefundState
from simulators.config import SimConfig
from tests.adapters.wechatpay_stack import Gateway, gateway_settings, running_gateway
from tests.simulators.fakes import FakeClock

SHANGHAI_DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 2 March


@pytest.fixture
async def gw(tmp_path: Path, clock: FakeClock, config: SimConfig) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(tmp_path), clock, config) as gateway:
        yield gateway


def _refund(order: CreateOrder, amount_fen: int | None = None, no: str = "") -> RefundRequest:
    return RefundRequest(
        out_refund_no=no or f"R{order.out_trade_no}",
        out_trade_no=order.out_trade_no,
        amount_fen=amount_fen or order.amount_fen,
        total_fen=order.amount_fen,
        reason="重复缴费退款",
    )


async def test_h5_order_is_created_queried_and_paid_through_signed_calls(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order()
    created = await gw.channel.create_order(order)
    assert created.h5_url is not None
    assert created.h5_url.startswith(f"http://cashier.test/sim/cashier/{order.out_trade_no}?")
    assert created.prepay_id and created.h5_url.endswith(created.prepay_id)
    assert created.jsapi is None
    assert (await gw.channel.query_order(order.out_trade_no)).provider_state == TradeState.NOTPAY

    await gw.sim.pay(order.out_trade_no)
    status = await gw.channel.query_order(order.out_trade_no)
    assert (status.state, status.provider_state) == (PaymentState.PAID, TradeState.SUCCESS)
    assert status.amount_fen == status.payer_total_fen == 87267
    assert status.transaction_id and status.bank_type == "OTHERS"
    assert status.success_time is not None


async def test_an_h5_order_names_the_payers_own_address_and_wechat_checks_its_form(
    gw: Gateway, make_order: Callable[..., CreateOrder], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[CreateOrder] = []
    create = gw.sim.create_order

    async def recording(req: CreateOrder) -> OrderCreated:
        seen.append(req)
        return await create(req)

    monkeypatch.setattr(gw.sim, "create_order", recording)
    await gw.channel.create_order(make_order(payer_client_ip="203.0.113.9"))
    # No address of its own (an order made without a browser): the configured one.
    await gw.channel.create_order(make_order())
    assert [r.payer_client_ip for r in seen] == ["203.0.113.9", gw.channel_config.h5_client_ip]
    with pytest.raises(InvalidRequestError):
        await gw.channel.create_order(make_order(payer_client_ip="not-an-address"))


async def test_identical_create_is_idempotent_and_changed_parameters_conflict(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order()
    first = await gw.channel.create_order(order)
    again = await gw.channel.create_order(order)
    assert again.prepay_id == first.prepay_id
    with pytest.raises(ConflictError) as err:
        await gw.channel.create_order(order.model_copy(update={"amount_fen": 100}))
    assert err.value.code == "OUT_TRADE_NO_USED"


async def test_jsapi_order_returns_a_pay_sign_made_with_the_merchant_key(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order(payer_openid="o-test-openid")
    created = await gw.channel.create_order(order)
    assert created.h5_url is None and created.jsapi is not None
    p = created.jsapi
    assert p["package"] == f"prepay_id={created.prepay_id}" and p["signType"] == "RSA"
    merchant_public = gw.config.keys.merchant_public
    message = f"{p['appId']}\n{p['timeStamp']}\n{p['nonceStr']}\n{p['package']}\n"
    assert verify(merchant_public, message, p["paySign"])
    assert not verify(merchant_public, message.replace("prepay_id", "prepay_iD"), p["paySign"])
    # What WeChat (and the shim of the pages) checks before it shows its cashier.
    assert verify_jsapi_pay_params(merchant_public, p)
    assert not verify_jsapi_pay_params(merchant_public, {**p, "package": "prepay_id=other"})
    assert not verify_jsapi_pay_params(merchant_public, {**p, "signType": "MD5"})
    stored = await gw.sim.order(order.out_trade_no)
    assert stored.payer_openid == "o-test-openid"


async def test_a_tampered_response_is_refused_with_auth_error(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order()
    await gw.channel.create_order(order)
    gw.switches.tamper_responses = 1
    with pytest.raises(AuthError) as err:
        await gw.channel.query_order(order.out_trade_no)
    assert err.value.code == "RESPONSE_SIGNATURE_INVALID"
    # The next, untampered response verifies again.
    assert (await gw.channel.query_order(order.out_trade_no)).provider_state == TradeState.NOTPAY


async def test_a_response_signed_by_an_unknown_platform_key_is_refused(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    impostor = public_pem_of(generate_private_key_pem()).decode()
    channel = WeChatPayChannel(dataclasses.replace(gw.channel_config, public_key_pem=impostor))
    with pytest.raises(AuthError):
        await channel.create_order(make_order())


async def test_a_request_signed_with_another_merchant_key_is_refused_by_the_gateway(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    stranger = generate_private_key_pem().decode()
    channel = WeChatPayChannel(dataclasses.replace(gw.channel_config, private_key_pem=stranger))
    order = make_order()
    with pytest.raises(AuthError) as err:
        await channel.create_order(order)
    assert err.value.code == "SIGN_ERROR"
    with pytest.raises(NotFoundError):
        await gw.sim.order(order.out_trade_no)


async def test_gateway_responses_carry_a_verifiable_platform_signature(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        r = await http.get(f"{gw.url}/v3/pay/transactions/out-trade-no/NOPE123?mchid=1")
    assert r.status_code == 401 and r.json()["code"] == "SIGN_ERROR"
    platform_public = load_public_key(gw.channel_config.public_key_pem.encode())
    message = response_message(
        r.headers["wechatpay-timestamp"], r.headers["wechatpay-nonce"], r.text
    )
    assert r.headers["wechatpay-serial"] == gw.channel_config.public_key_id
    assert verify(platform_public, message, r.headers["wechatpay-signature"])


@pytest.mark.parametrize(
    ("outcome", "error", "code"),
    [
        ("SYSTEM_ERROR", TransientError, "SYSTEM_ERROR"),
        ("FREQUENCY_LIMITED", TransientError, "FREQUENCY_LIMITED"),
        ("PARAM_ERROR", InvalidRequestError, "PARAM_ERROR"),
        ("INVALID_REQUEST", InvalidRequestError, "INVALID_REQUEST"),
        ("SIGN_ERROR", AuthError, "SIGN_ERROR"),
        ("NO_AUTH", AuthError, "NO_AUTH"),
        ("TIMEOUT_BEFORE_COMMIT", OutcomeUnknownError, "READ_TIMEOUT"),
    ],
)
async def test_create_order_errors_map_to_their_classes(
    gw: Gateway,
    make_order: Callable[..., CreateOrder],
    outcome: str,
    error: type[AdapterError],
    code: str,
) -> None:
    await gw.sim.force("create_order", 4242, outcome, times=1)
    with pytest.raises(error) as err:
        await gw.channel.create_order(make_order(amount_fen=4242))
    assert err.value.code == code


async def test_query_errors_map_to_their_classes(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    with pytest.raises(NotFoundError) as missing:
        await gw.channel.query_order("SB-NEVER-CREATED")
    assert missing.value.code == "ORDER_NOT_EXIST"
    order = make_order(amount_fen=4343)
    await gw.channel.create_order(order)
    await gw.sim.force("query_order", 4343, "TIMEOUT", times=1)
    with pytest.raises(TransientError):
        await gw.channel.query_order(order.out_trade_no)
    with pytest.raises(NotFoundError):
        await gw.channel.query_refund("R-NEVER-REQUESTED")


async def test_read_timeout_on_create_is_resolved_by_query_without_a_second_order(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order(amount_fen=5151)
    await gw.sim.force("create_order", 5151, "TIMEOUT_AFTER_COMMIT", times=1)
    with pytest.raises(OutcomeUnknownError) as err:
        await gw.channel.create_order(order)
    assert err.value.code == "READ_TIMEOUT"
    # What the activity does next: the order exists, and re-sending it returns the same one.
    assert (await gw.channel.query_order(order.out_trade_no)).provider_state == TradeState.NOTPAY
    stored = await gw.sim.order(order.out_trade_no)
    again = await gw.channel.create_order(order)
    assert again.prepay_id == stored.prepay_id
    await gw.sim.pay(order.out_trade_no)
    with pytest.raises(ConflictError) as paid:
        await gw.sim.pay(order.out_trade_no)
    assert paid.value.code == "ORDERPAID"


async def test_read_timeout_on_refund_is_resolved_by_query_without_a_second_refund(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order(amount_fen=6161)
    await gw.channel.create_order(order)
    await gw.sim.pay(order.out_trade_no)
    await gw.sim.force("refund", 6161, "TIMEOUT_AFTER_COMMIT", times=1)
    request = _refund(order)
    with pytest.raises(OutcomeUnknownError):
        await gw.channel.refund(request)
    found = await gw.channel.query_refund(request.out_refund_no)
    assert found.status == RefundState.PROCESSING and found.amount_fen == 6161
    retried = await gw.channel.refund(request)
    assert retried.refund_id == found.refund_id
    assert len((await gw.sim.order(order.out_trade_no)).refunds) == 1
    with pytest.raises(InvalidRequestError):  # a second refund number cannot refund again
        await gw.channel.refund(_refund(order, no=f"R2{order.out_trade_no}"))


async def test_refund_moves_from_processing_to_success_and_the_order_reads_refund(
    gw: Gateway, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order()
    await gw.channel.create_order(order)
    await gw.sim.pay(order.out_trade_no)
    started = await gw.channel.refund(_refund(order, amount_fen=100))
    assert started.status == RefundState.PROCESSING and started.refund_id
    clock.advance(minutes=6)
    done = await gw.channel.query_refund(started.out_refund_no)
    assert done.status == RefundState.SUCCESS and done.user_received_account == "支付用户零钱"
    assert done.success_time is not None
    assert (await gw.channel.query_order(order.out_trade_no)).provider_state == TradeState.REFUND


async def test_expired_order_is_closed_and_a_payment_after_close_is_refused(
    gw: Gateway, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order(time_expire=clock() + timedelta(minutes=5))
    await gw.channel.create_order(order)
    clock.advance(minutes=6)
    with pytest.raises(ConflictError) as late:
        await gw.sim.pay(order.out_trade_no)
    assert late.value.code == "ORDER_EXPIRED"
    await gw.channel.close_order(order.out_trade_no)
    await gw.channel.close_order(order.out_trade_no)  # closing again is a no-op
    assert (await gw.channel.query_order(order.out_trade_no)).provider_state == TradeState.CLOSED
    with pytest.raises(ConflictError) as closed:
        await gw.sim.pay(order.out_trade_no)
    assert closed.value.code == "ORDER_CLOSED"
    with pytest.raises(ConflictError):
        await gw.channel.create_order(order)


async def test_a_payment_that_lands_before_the_close_wins_and_the_query_tells(
    gw: Gateway, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order()
    await gw.channel.create_order(order)
    await gw.sim.pay(order.out_trade_no)  # the payer confirms while we decide to close
    with pytest.raises(ConflictError) as paid:
        await gw.channel.close_order(order.out_trade_no)
    assert paid.value.code == "ORDERPAID"
    assert (await gw.channel.query_order(order.out_trade_no)).provider_state == TradeState.SUCCESS


async def test_trade_bill_is_downloaded_checked_and_parsed_to_fen(
    gw: Gateway, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    clock.now = SHANGHAI_DAY
    orders = [
        make_order(amount_fen=87267, time_expire=clock() + timedelta(minutes=15)),
        make_order(amount_fen=1, time_expire=clock() + timedelta(minutes=15)),
    ]
    for order in orders:
        await gw.channel.create_order(order)
        await gw.sim.pay(order.out_trade_no)
    await gw.channel.refund(_refund(orders[0], amount_fen=12345))
    unpaid = make_order(time_expire=clock() + timedelta(minutes=15))
    await gw.channel.create_order(unpaid)

    rows = await gw.channel.trade_bill(SHANGHAI_DAY.date())
    assert rows == await gw.sim.trade_bill(SHANGHAI_DAY.date())
    assert [(r.out_trade_no, r.trade_state, r.amount_fen, r.refund_fen) for r in rows] == [
        (orders[0].out_trade_no, "SUCCESS", 87267, 0),
        (orders[1].out_trade_no, "SUCCESS", 1, 0),
        (orders[0].out_trade_no, "REFUND", 87267, 12345),
    ]
    assert rows[2].out_refund_no == f"R{orders[0].out_trade_no}"
    assert rows[2].refund_status == "PROCESSING"
    assert await gw.channel.trade_bill((SHANGHAI_DAY + timedelta(days=1)).date()) == []


async def test_trade_bill_with_a_wrong_sha1_is_refused(
    gw: Gateway, clock: FakeClock, make_order: Callable[..., CreateOrder]
) -> None:
    order = make_order()
    await gw.channel.create_order(order)
    await gw.sim.pay(order.out_trade_no)
    gw.switches.bad_bill_hash = True
    with pytest.raises(TransientError) as err:
        await gw.channel.trade_bill(clock().date())
    assert err.value.code == "BILL_HASH_MISMATCH"
