"""Messages to payers: kept once per key, sent to WeChat once, and reminders on their days only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.clock import system_clock
from adapters.errors import AdapterError, OutcomeUnknownError, TransientError
from adapters.mp_messages.client import RecipientRefused
from adapters.mp_messages.interface import TemplateMessage
from domain.payer_messages import MessageKind
from domain.vocabulary import ContributionStatus
from services.payer_messages import OpenidOf, PayerMessages
from simulators.mp_messages import MessageSimulator
from simulators.store import create_sim_tables
from storage import contributions, payer_messages
from storage.models import Person
from tests.storage.conftest import T0, make_contribution, make_person

K = MessageKind
BASE = "https://pay.example.test"


def openids(known: dict[str, str]) -> OpenidOf:
    """The openid seam as the binding would answer it: these people are bound."""

    async def openid_of(session: AsyncSession, person_id: str) -> str | None:
        return known.get(person_id)

    return openid_of


class Failing:
    """A messenger that fails every send with one error (WeChat's answer, classified)."""

    def __init__(self, error: AdapterError) -> None:
        self.error = error
        self.sent = 0

    async def send(self, message: TemplateMessage) -> str:
        self.sent += 1
        raise self.error


@pytest.fixture
async def wechat(engine: AsyncEngine) -> MessageSimulator:
    # The simulators' tables beside the app's: one database is enough for these tests.
    await create_sim_tables(engine)
    return MessageSimulator(engine, system_clock)


async def _paid(sm: async_sessionmaker[AsyncSession], person: Person, cid: str) -> None:
    await make_contribution(sm, person, cid, ["2026-02", "2026-03"])
    async with sm.begin() as db:
        await contributions.set_status(
            db,
            cid,
            ContributionStatus.PAID,
            T0,
            expected_treasury_date=date(2026, 3, 5),
        )


async def test_a_message_is_kept_and_sent_once_however_often_the_step_runs(
    sessionmaker: async_sessionmaker[AsyncSession], wechat: MessageSimulator
) -> None:
    person = await make_person(sessionmaker)
    await _paid(sessionmaker, person, "c-once")
    service = PayerMessages(sessionmaker, wechat, BASE, openid_of=openids({person.id: "o-1"}))
    assert await service.notify_contribution("c-once", K.PAYMENT_SUCCEEDED, T0) == "SENT"
    # A retried activity: the same key, nothing new kept, nothing sent again.
    assert await service.notify_contribution("c-once", K.PAYMENT_SUCCEEDED, T0) == "SENT"
    async with sessionmaker() as db:
        [kept] = await payer_messages.list_messages(db, person.id)
    assert kept.title == "缴费成功" and kept.link == "/h5/pay/result/c-once"
    assert "1745.34元" in kept.body and "2026-02至2026-03" in kept.body
    assert "2026-03-05" in kept.body
    [sent] = await wechat.received("o-1")
    assert sent["url"] == f"{BASE}/h5/pay/result/c-once"
    assert sent["data"]["first"] == "缴费成功"
    # No ID number and no name travel to WeChat.
    assert person.id_number not in str(sent) and person.name not in str(sent)


async def test_without_a_bound_openid_the_message_stays_on_the_page_only(
    sessionmaker: async_sessionmaker[AsyncSession], wechat: MessageSimulator
) -> None:
    person = await make_person(sessionmaker)
    await _paid(sessionmaker, person, "c-page")
    service = PayerMessages(sessionmaker, wechat, BASE)  # the default seam: nobody bound
    assert await service.notify_contribution("c-page", K.PAYMENT_SUCCEEDED, T0) == "NO_OPENID"
    assert await wechat.received() == []


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (RecipientRefused("43004", "unsubscribed"), "FAILED"),
        (OutcomeUnknownError("TIMEOUT"), "UNKNOWN"),
    ],
)
async def test_a_send_wechat_refused_or_may_have_taken_is_never_repeated(
    sessionmaker: async_sessionmaker[AsyncSession], error: AdapterError, state: str
) -> None:
    person = await make_person(sessionmaker)
    await _paid(sessionmaker, person, "c-refused")
    failing = Failing(error)
    service = PayerMessages(sessionmaker, failing, BASE, openid_of=openids({person.id: "o-2"}))
    assert await service.notify_contribution("c-refused", K.PAYMENT_SUCCEEDED, T0) == state
    assert await service.notify_contribution("c-refused", K.PAYMENT_SUCCEEDED, T0) == state
    assert failing.sent == 1


async def test_a_transient_failure_leaves_the_message_pending_for_the_retry(
    sessionmaker: async_sessionmaker[AsyncSession], wechat: MessageSimulator
) -> None:
    person = await make_person(sessionmaker)
    await _paid(sessionmaker, person, "c-busy")
    known = openids({person.id: "o-3"})
    busy = PayerMessages(sessionmaker, Failing(TransientError("-1")), BASE, openid_of=known)
    with pytest.raises(TransientError):
        await busy.notify_contribution("c-busy", K.PAYMENT_SUCCEEDED, T0)
    async with sessionmaker() as db:
        [kept] = await payer_messages.list_messages(db, person.id)
    assert kept.wechat_state == "PENDING"  # still on the page meanwhile
    again = PayerMessages(sessionmaker, wechat, BASE, openid_of=known)
    assert await again.notify_contribution("c-busy", K.PAYMENT_SUCCEEDED, T0) == "SENT"
    assert len(await wechat.received("o-3")) == 1


async def test_reminders_go_to_opted_in_payers_with_open_months_once_per_round(
    sessionmaker: async_sessionmaker[AsyncSession], wechat: MessageSimulator
) -> None:
    wanting = await make_person(sessionmaker, 1)
    silent = await make_person(sessionmaker, 2)
    async with sessionmaker.begin() as db:
        await payer_messages.set_reminders(db, wanting.id, True, T0)
        await payer_messages.set_reminders(db, silent.id, False, T0)
    known = openids({wanting.id: "o-w", silent.id: "o-s"})
    service = PayerMessages(sessionmaker, wechat, BASE, openid_of=known)
    # The 2026 policy's cut-off is 2026-12-25: a week before is a reminder day, the 10th is not.
    assert await service.remind(date(2026, 12, 10), (7, 1)) == 0
    assert await service.remind(date(2026, 12, 18), (7, 1)) == 1
    assert await service.remind(date(2026, 12, 18), (7, 1)) == 1  # a retried run
    [sent] = await wechat.received("o-w")
    assert sent["data"]["first"] == "缴费提醒" and sent["url"] == f"{BASE}/h5/pay/confirm?for=me"
    assert await wechat.received("o-s") == []
    async with sessionmaker() as db:
        [kept] = await payer_messages.list_messages(db, wanting.id)
    assert "2026-12-25" in kept.body and "2026-01" in kept.body
    # The next round is a new reminder.
    assert await service.remind(date(2026, 12, 24), (7, 1)) == 1
    assert len(await wechat.received("o-w")) == 2
