"""A WeChat Pay v3 look-alike state machine whose state lives in the shared simulator database."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.clock import Clock
from adapters.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    error_for_code,
)
from adapters.payments.interface import (
    BillRow,
    CreateOrder,
    OrderCreated,
    OrderStatus,
    PaymentChannel,
    PaymentNotification,
    RefundRequest,
    RefundStatus,
)
from adapters.payments.wechatpay.states import (
    BANK_TYPE_BALANCE,
    EVENT_REFUND_ABNORMAL,
    EVENT_REFUND_CLOSED,
    EVENT_REFUND_SUCCESS,
    EVENT_TRANSACTION_SUCCESS,
    TradeState,
    payment_state,
)
from domain.books import PaymentFact
from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel
from simulators.config import SimConfig
from simulators.store import add_force, new_digits, notifications, orders, refunds, take_force

# WeChat Pay's callback retry schedule after a failed delivery (about 24 h in all).
NOTIFY_RETRY_SCHEDULE_S: tuple[int, ...] = (
    15,
    15,
    30,
    3 * 60,
    10 * 60,
    20 * 60,
    30 * 60,
    30 * 60,
    30 * 60,
    60 * 60,
    3 * 3600,
    3 * 3600,
    3 * 3600,
    6 * 3600,
    6 * 3600,
)

ForceKind = Literal["refund", "create_order", "query_order"]

_COMMON_FAULTS = frozenset(
    {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "PARAM_ERROR", "INVALID_REQUEST", "SIGN_ERROR", "NO_AUTH"}
)
_REFUND_STATES = frozenset({RefundState.SUCCESS, RefundState.CLOSED, RefundState.ABNORMAL})
_FORCE_OUTCOMES: dict[str, frozenset[str]] = {
    "create_order": _COMMON_FAULTS | {"TIMEOUT_BEFORE_COMMIT", "TIMEOUT_AFTER_COMMIT"},
    # A timeout on a read is simply transient (error_for_code maps TIMEOUT to TransientError).
    "query_order": _COMMON_FAULTS | {"TIMEOUT", "ORDER_NOT_EXIST"},
    "refund": _COMMON_FAULTS
    | {"NOT_ENOUGH", "TIMEOUT_BEFORE_COMMIT", "TIMEOUT_AFTER_COMMIT"}
    | {str(s) for s in _REFUND_STATES},
}

_SHANGHAI = ZoneInfo("Asia/Shanghai")

_OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
_OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")
_MIN_EXPIRY = timedelta(minutes=1)
_MAX_EXPIRY = timedelta(days=90)

_PAID_STATES = frozenset({TradeState.SUCCESS, TradeState.REFUND})
_PAYABLE_STATES = (TradeState.NOTPAY.value, TradeState.USERPAYING.value)

_REFUND_EVENT: dict[RefundState, str] = {
    RefundState.SUCCESS: EVENT_REFUND_SUCCESS,
    RefundState.CLOSED: EVENT_REFUND_CLOSED,
    RefundState.ABNORMAL: EVENT_REFUND_ABNORMAL,
}

_BANK_NAMES = {
    "ICBC": "工商银行",
    "CCB": "建设银行",
    "ABC": "农业银行",
    "BOC": "中国银行",
    "CMB": "招商银行",
    "BOCOM": "交通银行",
    "PSBC": "邮储银行",
    "GZRCU": "贵州农信",
}


def notify_retry_delay_s(failed_attempts: int, factor: float = 1.0) -> float | None:
    """Seconds to wait after the n-th failed delivery (1-based); None once WeChat would give up.

    `factor` compresses the schedule (factor=60 turns 15 s into 0.25 s) for demos and tests.
    """
    if factor <= 0:
        raise ValueError("factor must be positive")
    if failed_attempts < 1 or failed_attempts > len(NOTIFY_RETRY_SCHEDULE_S):
        return None
    return NOTIFY_RETRY_SCHEDULE_S[failed_attempts - 1] / factor


async def channel_payments(engine: AsyncEngine) -> tuple[PaymentFact, ...]:
    """The simulated channel's own orders, for the audit: what it says it charged, whatever
    we recorded."""
    async with engine.connect() as conn:
        o = orders.c
        rows = (await conn.execute(select(o.out_trade_no, o.trade_state, o.amount_fen))).all()
    return tuple(PaymentFact(no, payment_state(state), amount) for no, state, amount in rows)


def _received_account(bank_type: str | None) -> str:
    # A label of the account kind only: the real field may show a card tail, which is
    # personal data we have no reason to simulate.
    if bank_type in (None, BANK_TYPE_BALANCE):
        return "支付用户零钱"
    code, _, kind = (bank_type or "").partition("_")
    suffix = {"DEBIT": "借记卡", "CREDIT": "信用卡"}.get(kind, "银行卡")
    return _BANK_NAMES.get(code, "") + suffix


class SimNotification(BaseModel):
    """A stored notification with its delivery bookkeeping (for tests and operators)."""

    model_config = ConfigDict(frozen=True)

    notification: PaymentNotification
    notify_url: str | None
    lost: bool
    duplicate_of: str | None
    attempts: int
    next_attempt_at: AwareDatetime
    delivered_at: AwareDatetime | None
    abandoned_at: AwareDatetime | None


class SimOrder(BaseModel):
    """Everything the simulator stores about one order (for tests and the cashier page)."""

    model_config = ConfigDict(frozen=True)

    out_trade_no: str
    description: str
    amount_fen: int
    time_expire: AwareDatetime
    channel: Channel
    notify_url: str
    payer_openid: str | None
    prepay_id: str
    created_at: AwareDatetime
    trade_state: TradeState
    transaction_id: str | None
    payer_total_fen: int | None
    success_time: AwareDatetime | None
    bank_type: str | None
    closed_at: AwareDatetime | None
    expired: bool
    refunds: list[RefundStatus]


class PaymentSimulator(PaymentChannel):
    """Orders NOTPAY → SUCCESS / PAYERROR (cashier) or CLOSED; refunds PROCESSING → final.

    Nothing here sleeps: every delay is a `ready_at` compared with `clock()`, and transitions
    that are due are applied by whichever reader (API or worker process) looks first, with
    compare-and-set updates so two processes never apply one twice.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        config: SimConfig,
        base_url: str = "http://127.0.0.1:8000",
        jsapi_signer: Callable[[str], dict[str, str]] | None = None,
    ) -> None:
        self._engine = engine
        self._jsapi_signer = jsapi_signer
        self._clock = clock
        self._config = config
        self._base_url = base_url.rstrip("/")

    def cashier_url(self, out_trade_no: str) -> str:
        return f"{self._base_url}/sim/cashier/{out_trade_no}"

    # ---- test and demo controls ----

    async def force(
        self, kind: ForceKind, amount_fen: int, outcome: str, times: int | None = None
    ) -> None:
        """Force the outcome of calls for orders/refunds of this amount (times=None: always).

        create_order: SYSTEM_ERROR | FREQUENCY_LIMITED (TransientError), TIMEOUT_BEFORE_COMMIT
        (OutcomeUnknownError, nothing created), TIMEOUT_AFTER_COMMIT (created, then
        OutcomeUnknownError), PARAM_ERROR | INVALID_REQUEST, SIGN_ERROR | NO_AUTH.
        query_order: the same faults plus TIMEOUT (TransientError) and ORDER_NOT_EXIST.
        refund: the same faults plus NOT_ENOUGH, or a final state SUCCESS | CLOSED | ABNORMAL.
        """
        allowed = _FORCE_OUTCOMES.get(kind)
        if allowed is None:
            raise ValueError(f"unknown force kind {kind!r}")
        if outcome not in allowed:
            raise ValueError(f"outcome {outcome!r} not allowed for {kind}: {sorted(allowed)}")
        await add_force(
            self._engine,
            kind=kind,
            amount_fen=amount_fen,
            outcome=outcome,
            times=times,
            now=self._clock(),
        )

    async def out_trade_no_of(self, prepay_id: str) -> str:
        """The order a prepay_id (a JSAPI package) belongs to; NotFoundError if unknown."""
        async with self._engine.connect() as conn:
            found = (
                await conn.execute(
                    select(orders.c.out_trade_no).where(orders.c.prepay_id == prepay_id)
                )
            ).scalar_one_or_none()
        if found is None:
            raise NotFoundError("ORDER_NOT_EXIST", "prepay_id 不存在")
        return str(found)

    async def order(self, out_trade_no: str) -> SimOrder:
        """The full stored state of an order, refunds included; NotFoundError if unknown."""
        async with self._engine.begin() as conn:
            await self._settle_due_refunds(conn, out_trade_no=out_trade_no)
            row = await self._order_row(conn, out_trade_no)
            refund_rows = (
                await conn.execute(
                    select(refunds)
                    .where(refunds.c.out_trade_no == out_trade_no)
                    .order_by(refunds.c.created_at)
                )
            ).all()
            state = await self._visible_trade_state(conn, row)
        return SimOrder(
            out_trade_no=row.out_trade_no,
            description=row.description,
            amount_fen=row.amount_fen,
            time_expire=row.time_expire,
            channel=Channel(row.channel),
            notify_url=row.notify_url,
            payer_openid=row.payer_openid,
            prepay_id=row.prepay_id,
            created_at=row.created_at,
            trade_state=state,
            transaction_id=row.transaction_id,
            payer_total_fen=row.payer_total_fen,
            success_time=row.success_time,
            bank_type=row.bank_type,
            closed_at=row.closed_at,
            expired=self._clock() >= row.time_expire,
            refunds=[self._refund_status(r) for r in refund_rows],
        )

    async def notifications_for(self, out_trade_no: str) -> list[SimNotification]:
        """Every notification stored for an order, lost and delivered ones included."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(notifications)
                    .where(notifications.c.out_trade_no == out_trade_no)
                    .order_by(notifications.c.created_at, notifications.c.event_id)
                )
            ).all()
        return [self._sim_notification(r) for r in rows]

    # ---- cashier side ----

    async def pay(
        self,
        out_trade_no: str,
        outcome: Literal["success", "fail"] = "success",
        bank_type: str | None = None,
        at: datetime | None = None,
    ) -> OrderStatus:
        """The payer confirms in the cashier. bank_type None: OTHERS (零钱) for a balance order,
        ICBC_DEBIT for a bank-card order. Refused with ConflictError ORDER_EXPIRED after
        time_expire (the order stays NOTPAY until closed), ORDERPAID, ORDER_CLOSED, TRADE_ERROR.
        """
        moment = at or self._clock()
        async with self._engine.begin() as conn:
            row = await self._order_row(conn, out_trade_no)
            self._check_payable(TradeState(row.trade_state))
            if moment >= row.time_expire:
                raise ConflictError("ORDER_EXPIRED", "订单已过支付截止时间")
            if outcome == "fail":
                values: dict[str, Any] = {"trade_state": TradeState.PAYERROR.value}
            else:
                chosen = bank_type or (
                    "ICBC_DEBIT" if row.channel == Channel.BANK_CARD.value else BANK_TYPE_BALANCE
                )
                values = {
                    "trade_state": TradeState.SUCCESS.value,
                    "transaction_id": "42000" + new_digits(23),
                    "payer_total_fen": row.amount_fen,
                    "success_time": moment,
                    "bank_type": chosen,
                }
            paid = (
                await conn.execute(
                    update(orders)
                    .where(
                        orders.c.out_trade_no == out_trade_no,
                        orders.c.trade_state.in_(_PAYABLE_STATES),
                    )
                    .values(**values)
                    .returning(*orders.c)
                )
            ).first()
            if paid is None:
                # Another process paid or closed it between our read and our write.
                row = await self._order_row(conn, out_trade_no)
                self._check_payable(TradeState(row.trade_state))
                raise ConflictError("TRADE_ERROR", "订单状态已变化")
            row = paid
            if outcome == "success":
                await self._enqueue(
                    conn,
                    event_type=EVENT_TRANSACTION_SUCCESS,
                    key=out_trade_no,
                    out_trade_no=out_trade_no,
                    out_refund_no=None,
                    transaction_id=row.transaction_id,
                    state=PaymentState.PAID,
                    provider_state=TradeState.SUCCESS.value,
                    refund_status=None,
                    amount_fen=row.amount_fen,
                    success_time=row.success_time,
                    bank_type=row.bank_type,
                    notify_url=row.notify_url,
                )
            return self._order_status(row, TradeState(row.trade_state))

    @staticmethod
    def _check_payable(state: TradeState) -> None:
        if state in _PAID_STATES:
            raise ConflictError("ORDERPAID", "订单已支付")
        if state in (TradeState.CLOSED, TradeState.REVOKED):
            raise ConflictError("ORDER_CLOSED", "订单已关闭")
        if state == TradeState.PAYERROR:
            raise ConflictError("TRADE_ERROR", "订单支付失败")

    # ---- notifications ----

    async def pending_notifications(self, limit: int = 100) -> list[PaymentNotification]:
        """Notifications due for a delivery attempt now (lost ones never show up)."""
        return [d.notification for d in await self.pending_deliveries(limit)]

    async def pending_deliveries(self, limit: int = 100) -> list[SimNotification]:
        """Like pending_notifications, with the notify_url and attempt count of each."""
        now = self._clock()
        async with self._engine.begin() as conn:
            # Refunds that became final since anyone looked get their callback enqueued here,
            # so callbacks flow even when nobody polls the refund.
            await self._settle_due_refunds(conn)
            rows = (
                await conn.execute(
                    select(notifications)
                    .where(
                        notifications.c.delivered_at.is_(None),
                        notifications.c.abandoned_at.is_(None),
                        notifications.c.lost.is_(False),
                        notifications.c.next_attempt_at <= now,
                    )
                    .order_by(notifications.c.next_attempt_at, notifications.c.event_id)
                    .limit(limit)
                )
            ).all()
        return [self._sim_notification(r) for r in rows]

    async def mark_delivered(self, event_id: str) -> None:
        """The receiver acknowledged (2xx); marking twice is harmless."""
        async with self._engine.begin() as conn:
            await self._notification_exists(conn, event_id)
            await conn.execute(
                update(notifications)
                .where(notifications.c.event_id == event_id, notifications.c.delivered_at.is_(None))
                .values(delivered_at=self._clock())
            )

    async def mark_failed_attempt(self, event_id: str, next_attempt_at: datetime | None) -> int:
        """Record a failed delivery; retry at next_attempt_at, or give up when it is None.

        Returns the number of failed attempts so far (feed it to notify_retry_delay_s).
        """
        async with self._engine.begin() as conn:
            await self._notification_exists(conn, event_id)
            values: dict[str, Any] = {"attempts": notifications.c.attempts + 1}
            if next_attempt_at is None:
                values["abandoned_at"] = self._clock()
            else:
                values["next_attempt_at"] = next_attempt_at
            await conn.execute(
                update(notifications)
                .where(notifications.c.event_id == event_id, notifications.c.delivered_at.is_(None))
                .values(**values)
            )
            attempts = await conn.scalar(
                select(notifications.c.attempts).where(notifications.c.event_id == event_id)
            )
        return int(attempts or 0)

    async def _notification_exists(self, conn: AsyncConnection, event_id: str) -> None:
        found = await conn.scalar(select(func.count()).where(notifications.c.event_id == event_id))
        if not found:
            raise NotFoundError("RESOURCE_NOT_EXISTS", "通知不存在")

    async def _enqueue(
        self,
        conn: AsyncConnection,
        *,
        event_type: str,
        key: str,
        notify_url: str | None,
        **fields: Any,
    ) -> None:
        """Store a notification; duplicate and lose it by the configured rates.

        The draws are keyed by the business object and event type, so the same payment is
        always lost (or duplicated) under the same seed, whichever process enqueues it.
        A duplicate is a second delivery with its own event id: the receiver must
        de-duplicate by the business object's state, not by event id alone.
        """
        now = self._clock()
        copies = 1
        if self._config.draw("duplicate", event_type, key) < self._config.duplicate_callback_rate:
            copies = 2
        first_id: str | None = None
        for copy in range(copies):
            event_id = f"EV-{new_digits(20)}"
            notification = PaymentNotification(
                event_id=event_id, event_type=event_type, create_time=now, **fields
            )
            lost = self._config.draw("lost", event_type, key, str(copy)) < (
                self._config.lost_callback_rate
            )
            await conn.execute(
                insert(notifications).values(
                    event_id=event_id,
                    event_type=event_type,
                    out_trade_no=notification.out_trade_no,
                    out_refund_no=notification.out_refund_no,
                    payload=notification.model_dump(mode="json"),
                    notify_url=notify_url,
                    created_at=now,
                    next_attempt_at=now,
                    attempts=0,
                    lost=lost,
                    duplicate_of=first_id,
                )
            )
            first_id = first_id or event_id

    # ---- PaymentChannel ----

    async def create_order(self, req: CreateOrder) -> OrderCreated:
        now = self._clock()
        # One transaction, as one call to the channel would be. A forced outcome, once taken,
        # stays taken whatever the answer, so refusals are raised after the commit.
        async with self._engine.begin() as conn:
            forced = await take_force(conn, kind="create_order", amount_fen=req.amount_fen)
            refusal: Exception | None = None
            if forced is not None and forced.outcome != "TIMEOUT_AFTER_COMMIT":
                refusal = error_for_code(forced.outcome, "模拟故障")
            elif not _OUT_TRADE_NO.match(req.out_trade_no):
                refusal = InvalidRequestError("PARAM_ERROR", "out_trade_no 格式错误")
            row: Row[Any] | None = None
            if refusal is None:
                row = await self._maybe_order_row(conn, req.out_trade_no)
                if row is None and _MIN_EXPIRY <= req.time_expire - now <= _MAX_EXPIRY:
                    row = await self._insert_order(conn, req, now)
                if row is None:
                    refusal = InvalidRequestError(
                        "PARAM_ERROR", "time_expire 须在 1 分钟至 90 天之内"
                    )
                else:
                    state = await self._visible_trade_state(conn, row)
        if refusal is not None:
            raise refusal
        assert row is not None
        lost_response = forced is not None
        if not self._same_order(row, req):
            raise ConflictError("OUT_TRADE_NO_USED", "商户订单号重复")
        if state in _PAID_STATES:
            raise ConflictError("ORDERPAID", "订单已支付")
        if state in (TradeState.CLOSED, TradeState.REVOKED):
            raise ConflictError("ORDER_CLOSED", "订单已关闭")
        if now >= row.time_expire:
            # WeChat validates time_expire on every request; identical parameters sent after
            # the deadline fail that check rather than resurrect the order.
            raise InvalidRequestError("PARAM_ERROR", "time_expire 已过")
        created = OrderCreated(
            out_trade_no=row.out_trade_no,
            prepay_id=row.prepay_id,
            cashier_url=self.cashier_url(row.out_trade_no),
            # H5 payments (no openid) get a redirect URL; JSAPI ones pay inside WeChat.
            h5_url=self.cashier_url(row.out_trade_no) if row.payer_openid is None else None,
            expires_at=row.time_expire,
            # Standing in for the merchant's client, which signs what WeixinJSBridge is given.
            jsapi=(
                self._jsapi_signer(row.prepay_id)
                if row.payer_openid is not None and self._jsapi_signer is not None
                else None
            ),
        )
        if lost_response:
            raise OutcomeUnknownError("TIMEOUT_AFTER_COMMIT", "读取响应超时")
        return created

    async def _insert_order(
        self, conn: AsyncConnection, req: CreateOrder, now: datetime
    ) -> Row[Any] | None:
        """Store a new order; a concurrent creator's row (same number) is returned instead."""
        inserted = (
            await conn.execute(
                pg_insert(orders)
                .values(
                    out_trade_no=req.out_trade_no,
                    description=req.description,
                    amount_fen=req.amount_fen,
                    time_expire=req.time_expire,
                    channel=req.channel.value,
                    notify_url=req.notify_url,
                    payer_openid=req.payer_openid,
                    prepay_id=f"wx{now:%d%H%M%S}{new_digits(20)}",
                    created_at=now,
                    trade_state=TradeState.NOTPAY.value,
                )
                .on_conflict_do_nothing(index_elements=[orders.c.out_trade_no])
                .returning(*orders.c)
            )
        ).first()
        return inserted or await self._maybe_order_row(conn, req.out_trade_no)

    @staticmethod
    def _same_order(row: Row[Any], req: CreateOrder) -> bool:
        return bool(
            row.description == req.description
            and row.amount_fen == req.amount_fen
            and row.time_expire == req.time_expire
            and row.channel == req.channel.value
            and row.notify_url == req.notify_url
            and row.payer_openid == req.payer_openid
        )

    async def query_order(self, out_trade_no: str) -> OrderStatus:
        async with self._engine.begin() as conn:
            await self._settle_due_refunds(conn, out_trade_no=out_trade_no)
            row = await self._order_row(conn, out_trade_no)
            forced = await take_force(conn, kind="query_order", amount_fen=row.amount_fen)
            state = await self._visible_trade_state(conn, row)
        if forced is not None:
            raise error_for_code(forced.outcome, "模拟故障")
        return self._order_status(row, state)

    async def close_order(self, out_trade_no: str) -> None:
        now = self._clock()
        async with self._engine.begin() as conn:
            row = await self._order_row(conn, out_trade_no)
            state = TradeState(row.trade_state)
            if state in (TradeState.CLOSED, TradeState.REVOKED):
                return
            if state in _PAID_STATES:
                raise ConflictError("ORDERPAID", "订单已支付")
            result = await conn.execute(
                update(orders)
                .where(
                    orders.c.out_trade_no == out_trade_no,
                    orders.c.trade_state.in_(
                        (*_PAYABLE_STATES, TradeState.PAYERROR.value),
                    ),
                )
                .values(trade_state=TradeState.CLOSED.value, closed_at=now)
            )
            if result.rowcount != 1:
                # Paid (or closed) by another process in between: report the truth.
                row = await self._order_row(conn, out_trade_no)
                if TradeState(row.trade_state) in _PAID_STATES:
                    raise ConflictError("ORDERPAID", "订单已支付")

    async def refund(self, req: RefundRequest) -> RefundStatus:
        now = self._clock()
        async with self._engine.begin() as conn:
            forced = await take_force(conn, kind="refund", amount_fen=req.amount_fen)
        final_status = RefundState.SUCCESS
        lost_response = False
        if forced is not None:
            if forced.outcome in _REFUND_STATES:
                final_status = RefundState(forced.outcome)
            elif forced.outcome == "TIMEOUT_AFTER_COMMIT":
                lost_response = True
            else:
                raise error_for_code(forced.outcome, "模拟故障")
        if not _OUT_REFUND_NO.match(req.out_refund_no):
            raise InvalidRequestError("PARAM_ERROR", "out_refund_no 格式错误")

        async with self._engine.begin() as conn:
            existing = await self._maybe_refund_row(conn, req.out_refund_no)
            if existing is None:
                values = await self._new_refund_values(conn, req, final_status, now)
        if existing is None:
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(insert(refunds).values(**values))
            except IntegrityError:
                # Another process inserted this out_refund_no first: compare with theirs.
                async with self._engine.begin() as conn:
                    existing = await self._maybe_refund_row(conn, req.out_refund_no)
        if existing is not None and not (
            existing.out_trade_no == req.out_trade_no
            and existing.amount_fen == req.amount_fen
            and existing.total_fen == req.total_fen
        ):
            raise ConflictError("OUT_REFUND_NO_USED", "退款单号已用于其他退款")
        status = await self.query_refund(req.out_refund_no)
        if lost_response:
            raise OutcomeUnknownError("TIMEOUT_AFTER_COMMIT", "读取响应超时")
        return status

    async def _new_refund_values(
        self,
        conn: AsyncConnection,
        req: RefundRequest,
        final_status: RefundState,
        now: datetime,
    ) -> dict[str, Any]:
        """Check a new refund against its order, as WeChat does, and build its row."""
        order = await self._maybe_order_row(conn, req.out_trade_no)
        if order is None:
            raise NotFoundError("RESOURCE_NOT_EXISTS", "订单不存在")
        if TradeState(order.trade_state) not in _PAID_STATES:
            raise InvalidRequestError("INVALID_REQUEST", "订单未支付，不能退款")
        if req.total_fen != order.amount_fen:
            raise InvalidRequestError("PARAM_ERROR", "订单金额与原订单不符")
        refunded = await conn.scalar(
            select(func.coalesce(func.sum(refunds.c.amount_fen), 0)).where(
                refunds.c.out_trade_no == req.out_trade_no,
                refunds.c.status != RefundState.CLOSED.value,
            )
        )
        if int(refunded or 0) + req.amount_fen > (order.payer_total_fen or 0):
            raise InvalidRequestError("INVALID_REQUEST", "退款金额超过可退金额")
        is_balance = order.bank_type in (None, BANK_TYPE_BALANCE)
        delay = self._config.refund_delay_s if is_balance else self._config.bank_card_refund_delay_s
        return {
            "out_refund_no": req.out_refund_no,
            "out_trade_no": req.out_trade_no,
            "refund_id": "50" + new_digits(27),
            "amount_fen": req.amount_fen,
            "total_fen": req.total_fen,
            "reason": req.reason,
            "notify_url": req.notify_url,
            "status": RefundState.PROCESSING.value,
            "final_status": final_status.value,
            "created_at": now,
            # Measured from the request, like the channel's own promise to the payer.
            "ready_at": now + timedelta(seconds=delay),
            "user_received_account": _received_account(order.bank_type),
        }

    async def query_refund(self, out_refund_no: str) -> RefundStatus:
        async with self._engine.begin() as conn:
            row = await self._maybe_refund_row(conn, out_refund_no)
            if row is None:
                raise NotFoundError("RESOURCE_NOT_EXISTS", "退款单不存在")
            await self._settle_refund(conn, row)
            row = await self._maybe_refund_row(conn, out_refund_no)
        assert row is not None  # refunds are never deleted
        return self._refund_status(row)

    async def refund_trade_no(self, out_refund_no: str) -> str:
        """The out_trade_no a refund belongs to; NotFoundError if unknown."""
        async with self._engine.connect() as conn:
            row = await self._maybe_refund_row(conn, out_refund_no)
        if row is None:
            raise NotFoundError("RESOURCE_NOT_EXISTS", "退款单不存在")
        return str(row.out_trade_no)

    async def trade_bill(self, bill_date: date) -> list[BillRow]:
        """The day's bill (Asia/Shanghai): payments by success time, refunds by request time.

        Like WeChat's, a payment line says SUCCESS even if it was refunded later; each refund
        is a line of its own with trade_state REFUND and its current status.
        """
        start = datetime.combine(bill_date, time(0), _SHANGHAI)
        end = start + timedelta(days=1)
        async with self._engine.begin() as conn:
            await self._settle_due_refunds(conn)
            paid = (
                await conn.execute(
                    select(orders)
                    .where(orders.c.success_time >= start, orders.c.success_time < end)
                    .order_by(orders.c.success_time, orders.c.out_trade_no)
                )
            ).all()
            refunded = (
                await conn.execute(
                    select(refunds, orders.c.transaction_id, orders.c.amount_fen.label("order_fen"))
                    .join(orders, orders.c.out_trade_no == refunds.c.out_trade_no)
                    .where(refunds.c.created_at >= start, refunds.c.created_at < end)
                    .order_by(refunds.c.created_at, refunds.c.out_refund_no)
                )
            ).all()
        rows = [
            BillRow(
                trade_time=o.success_time,
                out_trade_no=o.out_trade_no,
                transaction_id=o.transaction_id or "",
                trade_state=TradeState.SUCCESS.value,
                amount_fen=o.amount_fen,
            )
            for o in paid
        ]
        rows += [
            BillRow(
                trade_time=r.created_at,
                out_trade_no=r.out_trade_no,
                transaction_id=r.transaction_id or "",
                trade_state=TradeState.REFUND.value,
                amount_fen=r.order_fen,
                refund_fen=r.amount_fen,
                out_refund_no=r.out_refund_no,
                refund_status=r.status,
            )
            for r in refunded
        ]
        return sorted(rows, key=lambda row: row.trade_time)

    # ---- internals ----

    async def _settle_due_refunds(
        self, conn: AsyncConnection, out_trade_no: str | None = None
    ) -> None:
        query = select(refunds).where(
            refunds.c.status == RefundState.PROCESSING.value,
            refunds.c.ready_at <= self._clock(),
        )
        if out_trade_no is not None:
            query = query.where(refunds.c.out_trade_no == out_trade_no)
        for row in (await conn.execute(query)).all():
            await self._settle_refund(conn, row)

    async def _settle_refund(self, conn: AsyncConnection, row: Row[Any]) -> None:
        """Apply a due refund's final state once (compare-and-set) and enqueue its callback."""
        if row.status != RefundState.PROCESSING.value or self._clock() < row.ready_at:
            return
        final = RefundState(row.final_status)
        success_time = row.ready_at if final == RefundState.SUCCESS else None
        result = await conn.execute(
            update(refunds)
            .where(
                refunds.c.out_refund_no == row.out_refund_no,
                refunds.c.status == RefundState.PROCESSING.value,
            )
            .values(status=final.value, success_time=success_time)
        )
        if result.rowcount != 1:
            return  # another reader settled it and enqueued the callback
        order = await self._order_row(conn, row.out_trade_no)
        await self._enqueue(
            conn,
            event_type=_REFUND_EVENT[final],
            key=row.out_refund_no,
            out_trade_no=row.out_trade_no,
            out_refund_no=row.out_refund_no,
            transaction_id=order.transaction_id,
            state=None,
            provider_state=None,
            refund_status=final,
            amount_fen=row.amount_fen,
            success_time=success_time,
            bank_type=None,
            notify_url=row.notify_url or order.notify_url,
        )

    async def _visible_trade_state(self, conn: AsyncConnection, row: Row[Any]) -> TradeState:
        # WeChat reports a paid order as REFUND (转入退款) once a refund is under way or done.
        state = TradeState(row.trade_state)
        if state != TradeState.SUCCESS:
            return state
        live_refunds = await conn.scalar(
            select(func.count()).where(
                refunds.c.out_trade_no == row.out_trade_no,
                refunds.c.status != RefundState.CLOSED.value,
            )
        )
        return TradeState.REFUND if live_refunds else state

    async def _maybe_order_row(self, conn: AsyncConnection, out_trade_no: str) -> Row[Any] | None:
        return (
            await conn.execute(select(orders).where(orders.c.out_trade_no == out_trade_no))
        ).first()

    async def _order_row(self, conn: AsyncConnection, out_trade_no: str) -> Row[Any]:
        row = await self._maybe_order_row(conn, out_trade_no)
        if row is None:
            raise NotFoundError("ORDER_NOT_EXIST", "订单不存在")
        return row

    async def _maybe_refund_row(self, conn: AsyncConnection, out_refund_no: str) -> Row[Any] | None:
        return (
            await conn.execute(select(refunds).where(refunds.c.out_refund_no == out_refund_no))
        ).first()

    @staticmethod
    def _order_status(row: Row[Any], state: TradeState) -> OrderStatus:
        return OrderStatus(
            out_trade_no=row.out_trade_no,
            state=payment_state(state),
            provider_state=state.value,
            transaction_id=row.transaction_id,
            amount_fen=row.amount_fen,
            payer_total_fen=row.payer_total_fen,
            success_time=row.success_time,
            bank_type=row.bank_type,
        )

    @staticmethod
    def _refund_status(row: Row[Any]) -> RefundStatus:
        return RefundStatus(
            out_refund_no=row.out_refund_no,
            refund_id=row.refund_id,
            status=RefundState(row.status),
            amount_fen=row.amount_fen,
            success_time=row.success_time,
            user_received_account=row.user_received_account,
        )

    @staticmethod
    def _sim_notification(row: Row[Any]) -> SimNotification:
        return SimNotification(
            notification=PaymentNotification.model_validate(row.payload),
            notify_url=row.notify_url,
            lost=row.lost,
            duplicate_of=row.duplicate_of,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            abandoned_at=row.abandoned_at,
        )
