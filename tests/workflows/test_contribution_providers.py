"""The provider a contribution names decides where it pays; one nobody registered takes none."""

from __future__ import annotations

import pytest

from domain.vocabulary import ContributionStatus, RejectReason
from storage import contributions, payments
from tests.workflows.conftest import Stack
from workflows.contract import CancelRequest, ContributionView
from workflows.contribution import ContributionWorkflow


@pytest.mark.parametrize(
    "choice", [{"provider": "nosuchpay"}, {"provider": "wechatpay", "product": "nfc"}]
)
async def test_an_unknown_provider_or_product_is_refused_before_any_order(
    stack: Stack, choice: dict[str, str]
) -> None:
    inp = (await stack.contribution()).model_copy(update=choice)
    handle = await stack.start(inp)
    result: ContributionView = await handle.result()
    assert result.status == ContributionStatus.REJECTED
    assert result.reject_reason == RejectReason.PAYMENT_CHANNEL_REFUSED
    async with stack.sessions() as session:
        assert await payments.payments_for(session, inp.contribution_id) == []
        row = await contributions.get_contribution(session, inp.contribution_id)
    assert row is not None and row.status == ContributionStatus.REJECTED


async def test_the_payment_row_records_the_provider_and_product_used(stack: Stack) -> None:
    inp = (await stack.contribution()).model_copy(update={"product": "jsapi"})
    handle = await stack.start(inp)
    order = await handle.execute_update(ContributionWorkflow.payment_details)
    async with stack.sessions() as session:
        row = await payments.get_payment(session, order.out_trade_no)
    assert row is not None
    assert (row.provider, row.product, row.provider_state) == ("wechatpay", "jsapi", "NOTPAY")
    await handle.execute_update(ContributionWorkflow.cancel, CancelRequest())
