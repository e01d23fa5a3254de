"""社保费申报查询: a person's contribution months in a period, and one month's details."""

from __future__ import annotations

from collections.abc import Sequence

from domain.identity import mask_name
from domain.vocabulary import Insurance
from services.context import AppState
from services.errors import ServiceError
from services.payer_facts import (
    ContributionYearsOut,
    contribution_years_out,
    held_months,
    payer_facts,
)
from services.people import IdentityBody, identify
from services.periods import period
from storage import contributions, persons
from storage.contributions import RecordRow
from storage.models import Person


def record_not_found() -> ServiceError:
    return ServiceError(404, "RECORD_NOT_FOUND", "未找到该缴费记录", "record_id")


def identity_in_query() -> ServiceError:
    # A URL is logged by proxies and kept in browser history: an ID number must not travel in it.
    return ServiceError(
        400, "IDENTITY_IN_QUERY", "查询他人记录请使用 POST /api/v1/records/query 提交证件信息", None
    )


async def records_of(
    state: AppState,
    me: Person,
    from_month: str | None,
    to_month: str | None,
    trio: IdentityBody | None = None,
) -> Sequence[RecordRow]:
    """The signed-in person's months (this year by default), or, given their trio, another
    person's; the trio spends the identity's budget like a sign-in (services/identity_budget)."""
    first, last = period(from_month, to_month, state.today())
    person = me if trio is None else await identify(state, trio)
    async with state.sessions() as db:
        return await contributions.list_records(db, person.id, str(first), str(last))


async def contribution_years_of(state: AppState, me: Person) -> ContributionYearsOut | None:
    """The signed-in person's pension counter (None: not registered for it)."""
    async with state.sessions() as db:
        facts = await payer_facts(db, me, Insurance.PENSION)
        if facts is None:
            return None
        held = await held_months(db, me, Insurance.PENSION)
    return contribution_years_out(facts, state.today(), held.paid)


async def record_details(state: AppState, me: Person, record_id: int) -> tuple[RecordRow, str]:
    """One month and its person's masked name: only for that person or whoever paid it (404
    for anyone else, the same as an unknown id: never reveal that the record exists)."""
    async with state.sessions() as db:
        row = await contributions.get_record(db, record_id)
        if row is None:
            raise record_not_found()
        contribution = await contributions.get_contribution(db, row.contribution_id)
        payer_of = contribution.requested_by_person_id if contribution is not None else None
        if me.id not in (row.person_id, payer_of):
            raise record_not_found()
        person = await persons.get_person(db, row.person_id)
    return row, mask_name(person.name) if person is not None else ""
