"""Every status read comes from storage: the same view as the workflow's, with Temporal away."""

from __future__ import annotations

from typing import Any

import httpx

from domain.vocabulary import ContributionStatus
from services.contribution_view import contribution_out
from storage import persons
from tests.api.conftest import ApiStack, Payer
from tests.api.reading import without_temporal
from tests.support import this_month
from workflows.contract import ContributionView, workflow_id
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


async def _read(http: httpx.AsyncClient, payer: Payer, contribution_id: str) -> dict[str, Any]:
    r = await http.get(f"/api/v1/contributions/{contribution_id}", headers=payer.auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_completed_contribution_is_read_with_temporal_away(api: ApiStack) -> None:
    payer, contribution_id = await _completed(api)
    async with without_temporal(api) as http:
        view = await _read(http, payer, contribution_id)
    assert view["status"] == "COMPLETED"
    assert view["certificate_ready"] is True


async def test_an_unpaid_contribution_is_read_with_its_cashier_and_temporal_away(
    api: ApiStack,
) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    async with without_temporal(api) as http:
        view = await _read(http, payer, started["contribution_id"])
    assert view["status"] == "AWAITING_PAYMENT"
    assert view["payment"]["cashier_url"] == started["payment"]["cashier_url"]


async def test_a_month_in_flight_names_its_holder_with_temporal_away(api: ApiStack) -> None:
    """The holder was only the workflow's; verify_and_reserve now stores it with REJECTED."""
    payer = await api.register()
    # Two quotes before either starts: the second start finds the month taken by the first.
    first = await api.quote(payer, [this_month()])
    second = await api.quote(payer, [this_month()])
    assert first.status_code == second.status_code == 201
    holder = await api.start(payer, first.json()["quote_id"])
    assert holder.status_code == 201, holder.text
    refused = await api.start(payer, second.json()["quote_id"])
    assert refused.status_code == 409, refused.text
    holder_id = holder.json()["contribution_id"]
    assert refused.json()["contribution_id"] == holder_id
    listed = await api.http.get(
        "/api/v1/operator/contributions", params={"status": "REJECTED"}, headers=api.operator
    )
    rejected = [
        row["contribution_id"] for row in listed.json() if row["payer_ref"] == payer.payer_ref
    ]
    assert len(rejected) == 1
    async with without_temporal(api) as http:
        view = await _read(http, payer, rejected[0])
    assert view["status"] == "REJECTED"
    assert view["reject_reason"] == "MONTH_IN_FLIGHT"
    assert view["holder_contribution_id"] == holder_id
    await _assert_stored_view_is_the_workflows(api, payer, rejected[0])


async def test_the_stored_view_of_an_unpaid_contribution_is_the_workflows(api: ApiStack) -> None:
    payer = await api.register()
    started = await api.quote_and_start(payer)
    await _assert_stored_view_is_the_workflows(api, payer, started["contribution_id"])


async def test_the_stored_view_of_a_completed_contribution_is_the_workflows(
    api: ApiStack,
) -> None:
    payer, contribution_id = await _completed(api)
    await _assert_stored_view_is_the_workflows(api, payer, contribution_id)


async def _assert_stored_view_is_the_workflows(
    api: ApiStack, payer: Payer, contribution_id: str
) -> None:
    stored = await api.status(payer, contribution_id)
    handle = api.env.client.get_workflow_handle(workflow_id(contribution_id))
    view: ContributionView = await handle.query(ContributionWorkflow.status)
    async with api.sessions() as db:
        person = await persons.get_person(db, payer.person_id)
    assert person is not None
    asked = contribution_out(view, person).model_dump(mode="json")
    # Timeline times differ by how long each step took (the row is written as the step begins,
    # the workflow notes the status once it returns); the statuses themselves are the same.
    assert [t["status"] for t in stored.pop("timeline")] == [
        t["status"] for t in asked.pop("timeline")
    ]
    assert stored == asked
