"""Starting a contribution: idempotency key, quote checks, Temporal update-with-start."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.errors import MESSAGES, DomainError
from domain.vocabulary import Channel, ContributionStatus, RejectReason
from services.context import AppState
from services.contribution_cancel import cancel_in_workflow
from services.contribution_handles import UPDATE_TIMEOUT, start_failure_read
from services.contribution_view import stored_view
from services.errors import ServiceError, domain_error, month_in_flight, unavailable
from services.limits import start_allowed
from services.payer_facts import started_by_others
from services.timefmt import local_iso, utc_now
from services.wechat import openid_of
from settings import Settings
from storage import contributions, idempotency, persons, quotes
from storage.models import Person, Quote
from workflows import search_attributes as sa
from workflows.cleartext import ClearText
from workflows.contract import (
    ContributionInput,
    ContributionView,
    PaymentOrder,
    QuoteLine,
    Timings,
    workflow_id,
)
from workflows.contribution import ContributionWorkflow

log = logging.getLogger("shebao.services.contribution_start")

SCOPE = "contributions"
# WeChat Pay's product for payers inside WeChat (adapters/payments/wechatpay/provider.py).
JSAPI = "jsapi"
MAX_KEY_LENGTH = 128

_REJECT_MESSAGES: dict[str, tuple[int, str]] = {
    RejectReason.QUOTE_CHANGED: (422, "缴费标准已调整，请重新确认应缴费额"),
    RejectReason.QUOTE_EXPIRED: (422, "应缴费额确认已过期，请重新确认"),
    RejectReason.PAYMENT_CHANNEL_REFUSED: (502, "支付渠道暂时无法受理，请稍后再试"),
    ContributionStatus.CANCELLED: (409, "该缴费已取消"),
    ContributionStatus.EXPIRED: (409, "该缴费已超时关闭"),
}


def paid_by_another() -> ServiceError:
    return ServiceError(409, "ALREADY_PAID", "该月份已由他人代为缴纳成功，无需重复缴费", None)


def new_contribution_id() -> str:
    return uuid.uuid4().hex[:24]


def request_hash(quote_id: str, channel: Channel, person_id: str) -> str:
    """The canonical request the key is bound to: the body plus who sent it."""
    canonical = json.dumps(
        {"quote_id": quote_id, "channel": channel.value, "person_id": person_id},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def timings(settings: Settings) -> Timings:
    return Timings(
        payment_window_s=settings.payment_window_s,
        payment_poll_interval_s=settings.payment_poll_interval_s,
        posting_poll_interval_s=settings.posting_poll_interval_s,
        treasury_poll_interval_s=settings.treasury_poll_interval_s,
        refund_poll_interval_s=settings.refund_poll_interval_s,
    )


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise ServiceError(
            422, "IDEMPOTENCY_KEY_REQUIRED", "缺少Idempotency-Key请求头", "Idempotency-Key"
        )
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ServiceError(
            422, "IDEMPOTENCY_KEY_INVALID", "Idempotency-Key格式不正确", "Idempotency-Key"
        )
    return key


def rejection(reason: str, holder: str | None) -> ServiceError:
    """A workflow's refusal (reject reason or end status) as the API error."""
    if reason == RejectReason.MONTH_IN_FLIGHT:
        return month_in_flight(holder)
    if reason in _REJECT_MESSAGES:
        status, message = _REJECT_MESSAGES[reason]
        return ServiceError(status, reason, message, None)
    if reason in MESSAGES:
        return domain_error(DomainError.of(reason))
    # A status, not a reject reason: the workflow ended (cancelled, expired) without an order.
    log.info("start answered with the workflow's end status %s", reason)
    return ServiceError(409, "ALREADY_FINISHED", "该缴费已结束", None)


def _order_body(contribution_id: str, order: PaymentOrder, total_fen: int) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "out_trade_no": order.out_trade_no,
        "cashier_url": order.cashier_url,
        "expires_at": local_iso(order.expires_at),
        "prepay_id": order.prepay_id,
    }
    if order.jsapi is not None:
        payment["jsapi"] = order.jsapi
    return {
        "contribution_id": contribution_id,
        "status": ContributionStatus.AWAITING_PAYMENT.value,
        "total_fen": total_fen,
        "payment": payment,
    }


def _from_view(view: ContributionView) -> tuple[int, dict[str, Any]]:
    """The answer for a contribution whose workflow already ended (a late replay)."""
    if view.payment is not None:
        return 201, {
            "contribution_id": view.contribution_id,
            "status": view.status.value,
            "total_fen": view.total_fen,
            "payment": {
                "out_trade_no": view.payment.out_trade_no,
                "cashier_url": view.payment.cashier_url,
                "expires_at": local_iso(view.payment.expires_at),
            },
        }
    reason = view.reject_reason.value if view.reject_reason else view.status.value
    err = rejection(reason, view.holder_contribution_id)
    return err.status_code, err.body()


@dataclass(frozen=True)
class PayerDevice:
    """Where the payer pays from: WeChat's browser (its 网页授权 cookie) or any other, by the
    address the trusted proxy saw."""

    openid_cookie: str | None = None
    client_ip: str | None = None


async def start_contribution(
    state: AppState,
    me: Person,
    key: str | None,
    quote_id: str,
    channel: Channel,
    device: PayerDevice | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST /contributions: the answer's status and body, the same for every replay of the key."""
    checked = check_key(key)
    client = await state.temporal.client()
    starter = ContributionStarter(state, client, device or PayerDevice())
    return await starter.start(me, checked, quote_id, channel)


class ContributionStarter:
    """One POST /contributions: replay, or start the workflow and remember the answer."""

    def __init__(self, state: AppState, client: Client, device: PayerDevice) -> None:
        self._state = state
        self._client = client
        self._device = device

    async def start(
        self, me: Person, key: str, quote_id: str, channel: Channel
    ) -> tuple[int, dict[str, Any]]:
        digest = request_hash(quote_id, channel, me.id)
        candidate = new_contribution_id()
        async with self._state.sessions.begin() as db:
            record = await idempotency.claim_key(
                db,
                key=key,
                scope=SCOPE,
                request_hash=digest,
                contribution_id=candidate,
                at=utc_now(),
            )
        # A replay whose first attempt never answered re-runs with the first's contribution id
        # (update-with-start is idempotent); the quote's expiry was checked by that attempt.
        fresh = record.contribution_id == candidate
        if record.scope != SCOPE or record.request_hash != digest:
            raise ServiceError(
                422, "IDEMPOTENCY_KEY_REUSED", "该Idempotency-Key已用于其他请求", "Idempotency-Key"
            )
        if record.response is not None and record.status_code is not None:
            return record.status_code, dict(record.response)
        # Before any order opens, and not stored as the key's answer: a retry after the wait
        # with the same key goes ahead.
        await start_allowed(self._state, me, quote_id)
        contribution_id = record.contribution_id or candidate
        try:
            status, body = await self._run(
                me, contribution_id, quote_id, channel, check_expiry=fresh
            )
        except ServiceError as err:
            if err.status_code >= 500 and err.code != RejectReason.PAYMENT_CHANNEL_REFUSED:
                raise  # transient: the client may retry with the same key
            status, body = err.status_code, err.body()
        async with self._state.sessions.begin() as db:
            await idempotency.store_response(db, key, status, body)
        return status, body

    async def _run(
        self,
        me: Person,
        contribution_id: str,
        quote_id: str,
        channel: Channel,
        *,
        check_expiry: bool,
    ) -> tuple[int, dict[str, Any]]:
        async with self._state.sessions() as db:
            quote = await quotes.get_quote(db, quote_id)
            payer = await persons.get_person(db, quote.person_id) if quote is not None else None
        if quote is None or payer is None:
            raise ServiceError(
                404, "QUOTE_NOT_FOUND", "未找到应缴费额确认信息，请重新确认", "quote_id"
            )
        if check_expiry and quote.expires_at <= utc_now():
            raise ServiceError(422, "QUOTE_EXPIRED", "应缴费额确认已过期，请重新确认", "quote_id")
        # One live unpaid order per quote: another key for the same quote gets that one, so
        # a loop of starts cannot open channel orders one after another.
        live = await self._live_order(quote.id)
        if live is not None:
            return live
        if payer.id == me.id:
            await self._take_precedence(me, quote)
        inp = self._input(me, payer, quote, contribution_id, channel)
        return await self._update_with_start(inp)

    async def _live_order(self, quote_id: str) -> tuple[int, dict[str, Any]] | None:
        """The answer of the quote's contribution still awaiting payment, if there is one."""
        async with self._state.sessions() as db:
            live = await contributions.live_for_quote(db, quote_id)
        if live is None:
            return None
        handle = self._client.get_workflow_handle(workflow_id(live.id))
        try:
            order: PaymentOrder = await handle.execute_update(
                ContributionWorkflow.payment_details, rpc_timeout=UPDATE_TIMEOUT
            )
        except (WorkflowUpdateFailedError, RPCError, RPCTimeoutOrCancelledError):
            # It ended meanwhile (or cannot be asked): a start of its own decides.
            return None
        return 201, _order_body(live.id, order, live.total_fen)

    async def _take_precedence(self, me: Person, quote: Quote) -> None:
        """The person's own start comes first: unpaid orders someone else started for their
        months are closed at the channel (the workflow's cancel path) before this one starts.

        One of them paid meanwhile: the months are paid, so this start is refused.
        """
        async with self._state.sessions() as db:
            others = await started_by_others(db, me, quote.insurance, quote.months)
        for other in others:
            try:
                await cancel_in_workflow(self._state, other.id, "payer_precedence")
            except ServiceError as err:
                if err.code == "ALREADY_PAID":
                    raise paid_by_another() from None
                if err.code != "ALREADY_FINISHED":
                    raise

    def _input(
        self, me: Person, payer: Person, quote: Quote, contribution_id: str, channel: Channel
    ) -> ContributionInput:
        return ContributionInput(
            contribution_id=contribution_id,
            quote_id=quote.id,
            person_id=payer.id,
            payer_ref=payer.payer_ref,
            requested_by_person_id=me.id,
            insurance=quote.insurance,
            months=list(quote.months),
            grade=quote.grade,
            back_payment=quote.back_payment,
            channel=channel,
            **self._payment_route(),
            lines=[QuoteLine.model_validate(line) for line in quote.lines],
            total_fen=quote.total_fen,
            timings=timings(self._state.settings),
        )

    def _payment_route(self) -> dict[str, Any]:
        """The provider and product, and who pays as that product names them: inside WeChat
        (an openid from 网页授权) a JSAPI order, else the configured product with the payer's
        address."""
        settings = self._state.settings
        name = settings.payment_provider
        openid = openid_of(self._state, self._device.openid_cookie)
        adapters = self._state.adapters
        provider = adapters.payments.find(name) if adapters is not None else None
        if openid is not None and provider is not None and JSAPI in provider.products:
            return {"provider": name, "product": JSAPI, "payer_openid": openid}
        return {
            "provider": name,
            "product": settings.payment_product,
            "payer_client_ip": self._device.client_ip,
        }

    async def _update_with_start(self, inp: ContributionInput) -> tuple[int, dict[str, Any]]:
        settings = self._state.settings
        wid = workflow_id(inp.contribution_id)
        operation = WithStartWorkflowOperation(
            ContributionWorkflow.run,
            inp,
            id=wid,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A closed run is never started again: a late replay reads its outcome instead.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=sa.initial(inp),
            # What operators see in Temporal UI, even without the codec key: no personal data.
            static_summary=ClearText(
                f"{inp.insurance.value} {inp.months[0]}~{inp.months[-1]} {inp.total_fen} fen"
            ),
        )
        try:
            async with start_failure_read(operation):
                order: PaymentOrder = await self._client.execute_update_with_start_workflow(
                    ContributionWorkflow.payment_details,
                    start_workflow_operation=operation,
                    # It waits for the payment order; without a worker it would wait forever.
                    rpc_timeout=UPDATE_TIMEOUT,
                )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type:
                details = cause.details[0] if cause.details else {}
                holder = (
                    details.get("holder_contribution_id") if isinstance(details, dict) else None
                )
                raise rejection(cause.type, holder) from None
            log.error("payment_details failed without a reason: %s", type(cause).__name__)
            raise ServiceError(500, "INTERNAL_ERROR", "系统繁忙，请稍后再试") from None
        except WorkflowAlreadyStartedError:
            # A late replay of a closed run: its outcome is in storage, as every status is.
            async with self._state.sessions() as db:
                row = await contributions.get_contribution(db, inp.contribution_id)
                view = await stored_view(db, row) if row is not None else None
            if view is None:
                raise unavailable() from None
            return _from_view(view)
        except RPCError as err:
            log.warning("Temporal refused update-with-start: %s", err.status.name)
            raise unavailable() from None
        except RPCTimeoutOrCancelledError:
            # Started, perhaps, but no answer in time (no worker?): a retry with the same key
            # attaches to the same workflow.
            log.warning("update-with-start of %s timed out", wid)
            raise unavailable() from None
        return 201, _order_body(inp.contribution_id, order, inp.total_fen)
