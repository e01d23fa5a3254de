"""Payment providers by name: WeChat Pay's registration, its state mapping, and the look-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import pytest

from adapters.payments.interface import PaymentChannel
from adapters.payments.registry import PaymentProviders, UnknownProvider
from adapters.payments.wechatpay import provider as wechatpay
from adapters.payments.wechatpay.states import PAYMENT_STATES, TradeState, payment_state
from domain.payments import PaymentState

MIGRATION = (
    Path(__file__).resolve().parents[2] / "storage/migrations/versions/0006_payment_provider.py"
)
# Only the registration is looked at here, never the channel.
NO_CHANNEL = cast(PaymentChannel, object())


def test_every_wechat_trade_state_has_one_of_ours() -> None:
    assert set(PAYMENT_STATES) == set(TradeState)
    assert payment_state("SUCCESS") == PaymentState.PAID
    assert payment_state("USERPAYING") == PaymentState.PENDING
    with pytest.raises(ValueError):
        payment_state("全额退款")


def test_the_migration_fills_existing_rows_as_the_mapping_does() -> None:
    # Rows written before 0006 are WeChat's: the SQL copy of the mapping must agree with it.
    text = MIGRATION.read_text(encoding="utf-8")
    sql = dict(re.findall(r"WHEN '(\w+)' THEN '(\w+)'", text))
    default = re.search(r"ELSE '(\w+)'", text)
    assert default is not None
    for wechat, ours in PAYMENT_STATES.items():
        assert sql.get(wechat.value, default.group(1)) == ours.value


def test_wechatpay_registers_under_its_name_with_its_notify_route() -> None:
    providers = PaymentProviders(wechatpay.provider(NO_CHANNEL))
    found = providers.get("wechatpay")
    assert providers.default is found
    assert (found.name, found.products) == ("wechatpay", frozenset({"h5", "jsapi"}))
    # The path the local gateway, the client docs and the merchant platform use stays the same.
    url = "http://demo/api/v1/payments/wechatpay/notify"
    assert found.notify_url("http://demo/") == wechatpay.notify_url("http://demo") == url


def test_an_unregistered_name_is_refused() -> None:
    providers = PaymentProviders(wechatpay.provider(NO_CHANNEL))
    with pytest.raises(UnknownProvider):
        providers.get("alipay")
    assert providers.find("alipay") is None
    with pytest.raises(UnknownProvider):
        providers.default = "alipay"
