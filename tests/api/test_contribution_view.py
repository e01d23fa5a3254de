"""A contribution with a payment order is read from storage, with the view the workflow gives."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

import services.contribution_view as contribution_view
from domain.contribution import ContributionView
from domain.vocabulary import ContributionStatus
from services.contribution_handles import query_view, workflow_id
from services.contribution_view import from_workflow
from storage import persons
from storage.models import Payment
from tests.api.conftest import ApiStack, Payer
from workflows.contribution import ContributionWorkflow

S = ContributionStatus


def status_is(status: ContributionStatus) -> Any:
    return lambda view: view["status"] == status.value


async def _completed(api: ApiStack) -> tuple[Payer, str]:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    paid = await api.pay(started["payment"]["out_trade_no"], method="wechat_balance")
    assert paid.status_code == 200, paid.text
    await api.wait_for(payer, started["contribution_id"], status_is(S.COMPLETED))
    return payer, started["contribution_id"]


@pytest.fixture
def workflow_asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The contributions whose workflow the status route queries from now on."""
    asked: list[str] = []

    async def spy(client: Any, contribution_id: str) -> ContributionView | None:
        asked.append(contribution_id)
        return await query_view(client, contribution_id)

    monkeypatch.setattr(contribution_view, "query_view", spy)
    return asked


async def _read_afresh(
    api: ApiStack, workflow_asked: list[str], payer: Payer, contribution_id: str
) -> dict[str, Any]:
    """The status route's answer, with the workflows it asked counted from this read only."""
    workflow_asked.clear()
    return await api.status(payer, contribution_id)


async def test_a_completed_contribution_is_read_without_replaying_its_workflow(
    api: ApiStack, workflow_asked: list[str]
) -> None:
    payer, contribution_id = await _completed(api)
    view = await _read_afresh(api, workflow_asked, payer, contribution_id)
    assert view["status"] == "COMPLETED"
    assert view["certificate_ready"] is True
    assert workflow_asked == []


async def test_an_unpaid_contribution_is_read_from_storage_with_its_cashier(
    api: ApiStack, workflow_asked: list[str]
) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    view = await _read_afresh(api, workflow_asked, payer, started["contribution_id"])
    assert view["status"] == "AWAITING_PAYMENT"
    assert view["payment"]["cashier_url"] == started["payment"]["cashier_url"]
    assert workflow_asked == []


async def test_an_order_stored_without_its_cashier_url_asks_the_workflow(
    api: ApiStack, workflow_asked: list[str]
) -> None:
    """Orders created before payments kept their cashier URL (migration 0004)."""
    payer = await api.register()
    started = await api.quote_and_start(payer)
    async with api.sessions.begin() as db:
        await db.execute(
            update(Payment)
            .where(Payment.out_trade_no == started["payment"]["out_trade_no"])
            .values(cashier_url=None)
        )
    view = await _read_afresh(api, workflow_asked, payer, started["contribution_id"])
    assert view["payment"]["cashier_url"] == started["payment"]["cashier_url"]
    assert workflow_asked == [started["contribution_id"]]


async def test_the_stored_view_of_an_unpaid_contribution_is_the_workflows(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    await _assert_stored_view_is_the_workflows(api, payer, started["contribution_id"])


async def _assert_stored_view_is_the_workflows(
    api: ApiStack, payer: Payer, contribution_id: str
) -> None:
    stored = await api.status(payer, contribution_id)
    handle = api.env.client.get_workflow_handle(workflow_id(contribution_id))
    view: ContributionView = await handle.query(ContributionWorkflow.status)
    async with api.sessions() as db:
        person = await persons.get_person(db, payer.person_id)
    assert person is not None
    asked = from_workflow(view, person).model_dump(mode="json")
    # Timeline times differ by how long each step took (the row is written as the step begins,
    # the workflow notes the status once it returns); the statuses themselves are the same.
    assert [t["status"] for t in stored.pop("timeline")] == [
        t["status"] for t in asked.pop("timeline")
    ]
    assert stored == asked


async def test_the_stored_view_of_a_completed_contribution_is_the_workflows(
    api: ApiStack,
) -> None:
    payer, contribution_id = await _completed(api)
    await _assert_stored_view_is_the_workflows(api, payer, contribution_id)
