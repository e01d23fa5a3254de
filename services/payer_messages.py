"""Messages to payers (消息): kept for the pages, sent once to WeChat when an openid is bound."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.errors import (
    AuthError,
    InvalidRequestError,
    OutcomeUnknownError,
)
from adapters.mp_messages.interface import PayerMessenger, TemplateMessage
from domain.errors import DomainError
from domain.payer_messages import (
    ContributionFacts,
    Draft,
    MessageKind,
    contribution_draft,
    contribution_message_key,
    reminder_draft,
    reminder_key,
    reminder_round,
)
from services.context import AppState
from services.errors import ServiceError
from services.options import payer_options
from services.timefmt import LocalDateTime, utc_now
from storage import contributions, payer_messages, persons, refunds, wechat_openids
from storage.models import PayerMessage, Person
from storage.policy_book import load_policy_book

log = logging.getLogger("shebao.services.payer_messages")

# "The openid bound to a person, if any": the seam through which WeChat sign-in (the openid
# binding, storage/wechat_openids.py) tells this module whom it can reach inside WeChat.
OpenidOf = Callable[[AsyncSession, str], Awaitable[str | None]]

# What the worker uses unless told otherwise: the openid the person bound most recently.
DEFAULT_OPENID_OF: OpenidOf = wechat_openids.openid_for_person


def template_fields(draft: Draft) -> dict[str, str]:
    """A draft as a 模板消息's fields: first, keyword1…keywordN, remark."""
    fields = {"first": draft.title}
    for i, (_, value) in enumerate(draft.lines, start=1):
        fields[f"keyword{i}"] = value
    fields["remark"] = "点击查看详情"
    return fields


@dataclass
class PayerMessages:
    """Records a payer's messages and delivers each to WeChat at most once."""

    sessions: async_sessionmaker[AsyncSession]
    # None: messages are kept for the pages only (no WeChat configured).
    messenger: PayerMessenger | None
    # The payer pages' public base URL: a message's link opens the page it is about.
    base_url: str
    # Template id per MessageKind value (settings.wechat_mp_templates); missing: a local id.
    templates: dict[str, str] = field(default_factory=dict)
    openid_of: OpenidOf = DEFAULT_OPENID_OF

    async def _add(
        self, key: str, person_id: str, draft: Draft, contribution_id: str | None, at: datetime
    ) -> int:
        async with self.sessions.begin() as db:
            message = await payer_messages.add_message(
                db,
                key=key,
                person_id=person_id,
                kind=draft.kind.value,
                title=draft.title,
                body=draft.body,
                link=draft.link,
                contribution_id=contribution_id,
                at=at,
            )
            return message.id

    async def deliver(self, message_id: int) -> str:
        """Send a PENDING message to the person's WeChat; answers its state afterwards.

        The row stays locked while sending, so two attempts never both send it. Transient
        errors leave it PENDING and are raised (the caller retries); a send whose outcome is
        unknown is not repeated (UNKNOWN): a payer told twice is worse than one told late.
        """
        async with self.sessions.begin() as db:
            message = await db.get(PayerMessage, message_id, with_for_update=True)
            if message is None or message.wechat_state != payer_messages.PENDING:
                return message.wechat_state if message is not None else payer_messages.FAILED
            openid = await self.openid_of(db, message.person_id)
            now = utc_now()
            if openid is None or self.messenger is None:
                await payer_messages.mark_wechat(db, message_id, payer_messages.NO_OPENID, now)
                return payer_messages.NO_OPENID
            template = TemplateMessage(
                openid=openid,
                template_id=self.templates.get(message.kind, f"local-{message.kind}"),
                url=self.base_url.rstrip("/") + message.link,
                data=template_fields(_draft_of(message)),
            )
            try:
                msgid = await self.messenger.send(template)
            except OutcomeUnknownError as err:
                await payer_messages.mark_wechat(
                    db, message_id, payer_messages.UNKNOWN, now, error=err.code[:32]
                )
                return payer_messages.UNKNOWN
            except (InvalidRequestError, AuthError) as err:
                # Retrying cannot help (refused by the payer, a bad template, our credentials).
                log.warning("message %d refused by WeChat: %s", message_id, err.code)
                await payer_messages.mark_wechat(
                    db, message_id, payer_messages.FAILED, now, error=err.code[:32]
                )
                return payer_messages.FAILED
            await payer_messages.mark_wechat(
                db, message_id, payer_messages.SENT, now, msgid=msgid[:64]
            )
            return payer_messages.SENT

    async def notify_contribution(
        self, contribution_id: str, kind: MessageKind, at: datetime
    ) -> str:
        """The contribution's message of this kind, recorded once and delivered once."""
        async with self.sessions() as db:
            contribution = await contributions.get_contribution(db, contribution_id)
            if contribution is None:
                raise LookupError(f"no contribution {contribution_id}")
            found = await refunds.refunds_for(db, contribution_id)
        facts = ContributionFacts(
            contribution_id=contribution_id,
            insurance=contribution.insurance,
            months=tuple(contribution.months),
            total_fen=contribution.total_fen,
            expected_treasury_date=contribution.expected_treasury_date,
            refund_fen=found[-1].amount_fen if found else None,
        )
        message_id = await self._add(
            contribution_message_key(contribution_id, kind),
            # Whoever the months belong to: a payer paying for another is told nothing here.
            contribution.person_id,
            contribution_draft(kind, facts),
            contribution_id,
            at,
        )
        return await self.deliver(message_id)

    async def remind(self, today: date, days_before: Sequence[int]) -> int:
        """Remind opted-in payers with unpaid open months of a year whose cut-off nears.

        Once per person, year and round (the days left): a retried run sends nobody twice.
        Answers how many reminders were recorded.
        """
        async with self.sessions() as db:
            book = await load_policy_book(db)
            people = await payer_messages.opted_in_people(db)
        due = [
            (policy.year, policy.cutoff_date, left)
            for policy in (book.get(today.year - 1), book.get(today.year))
            if policy is not None
            and (left := reminder_round(today, policy.cutoff_date, tuple(days_before))) is not None
        ]
        recorded = 0
        for year, cutoff, left in due:
            for person_id in people:
                unpaid = await self._unpaid_months(person_id, year, today)
                if not unpaid:
                    continue
                message_id = await self._add(
                    reminder_key(person_id, year, left),
                    person_id,
                    reminder_draft(year, unpaid, cutoff),
                    None,
                    utc_now(),
                )
                recorded += 1
                try:
                    await self.deliver(message_id)
                except Exception as err:
                    # Left PENDING and on the payer's 消息 page; by class only (no input).
                    log.warning("reminder %d not delivered: %s", message_id, type(err).__name__)
        return recorded

    async def _unpaid_months(self, person_id: str, year: int, today: date) -> list[str]:
        async with self.sessions() as db:
            person = await persons.get_person(db, person_id)
            if person is None:
                return []
            try:
                options = await payer_options(db, person, today)
            except (DomainError, ServiceError):
                return []  # no policy for the year, or not registered: nothing to remind of
        return [m for m in options.open_months if m.startswith(f"{year}-")]


def _draft_of(message: PayerMessage) -> Draft:
    """A stored message back as a draft (for the template's fields)."""
    lines: list[tuple[str, str]] = []
    for line in message.body.splitlines():
        label, sep, value = line.partition("：")
        lines.append((label, value) if sep else ("", label))
    return Draft(MessageKind(message.kind), message.title, tuple(lines), message.link)


# ---- the payer's side: the 消息 list and the reminder choice ----------------------------------


class MessageOut(BaseModel):
    message_id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: LocalDateTime
    # Whether WeChat carried it too: SENT, NO_OPENID, PENDING, FAILED or UNKNOWN.
    wechat_state: str


class MessageSettingsOut(BaseModel):
    reminders: bool


async def messages_of(state: AppState, me: Person) -> list[MessageOut]:
    """The signed-in person's messages, newest first."""
    async with state.sessions() as db:
        rows = await payer_messages.list_messages(db, me.id)
    return [
        MessageOut(
            message_id=row.id,
            kind=row.kind,
            title=row.title,
            body=row.body,
            link=row.link,
            created_at=row.created_at,
            wechat_state=row.wechat_state,
        )
        for row in rows
    ]


async def settings_of(state: AppState, me: Person) -> MessageSettingsOut:
    async with state.sessions() as db:
        return MessageSettingsOut(reminders=await payer_messages.reminders_wanted(db, me.id))


async def set_reminders(state: AppState, me: Person, wanted: bool) -> MessageSettingsOut:
    """Opt in or out of reminders (payment results are always kept on the 消息 page)."""
    async with state.sessions.begin() as db:
        await payer_messages.set_reminders(db, me.id, wanted, utc_now())
    return MessageSettingsOut(reminders=wanted)
