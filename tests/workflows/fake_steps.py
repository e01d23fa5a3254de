"""Scripted stand-ins for the contribution steps: workflow policy tests without a database.

As in temporalio/samples-python, each fake is an activity registered under the real step's
name; `fake(step, fn)` types it against the contract's Step, so a fake cannot drift from the
argument and result the workflow passes. The fakes answer from a script (what the channel, the
agency and the treasury say) and keep what storage would hold: every status a real step
persists, in order, so a test can tell what a client reading storage would see.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel, ContributionStatus, Insurance, PostingState, RejectReason
from tests.workflows.starting import start_contribution
from workflows.contract import (
    REFUND_UNSETTLED,
    AssessOutcome,
    CertifyRequest,
    ChargeRequest,
    ContributionInput,
    PayerNotice,
    PaymentCheck,
    PaymentNotice,
    PaymentOrder,
    PaymentRecorded,
    PostingCheck,
    PostingCheckRequest,
    PostingRequestMsg,
    QuoteLine,
    RecordPaymentRequest,
    RefundCheck,
    RefundCheckRequest,
    RefundOrder,
    StatusChange,
    Step,
    TreasuryCheckRequest,
    TreasuryResult,
    VerifyOutcome,
    VerifyRequest,
)
from workflows.contract import ContributionSteps as Steps
from workflows.contribution import ContributionWorkflow

S = ContributionStatus
In = TypeVar("In")
Out = TypeVar("Out")
TOTAL_FEN = 87_267


def fake(
    step: Step[In, Out], fn: Callable[[In], Awaitable[Out]]
) -> Callable[..., Awaitable[object]]:
    """`fn` as the activity the worker runs for `step`."""
    return activity.defn(name=step.name)(fn)


def contribution_input(**changes: Any) -> ContributionInput:
    """A one-month contribution as the API would start it (no personal data needed here)."""
    line = QuoteLine(
        month="2026-01", base_fen=436_335, rate="0.2", amount_fen=TOTAL_FEN, interest_fen=0
    )
    inp = ContributionInput(
        contribution_id=uuid.uuid4().hex[:24],
        quote_id="q_test",
        person_id="p_test",
        payer_ref="ref_test",
        insurance=Insurance.PENSION,
        months=["2026-01"],
        grade=60,
        back_payment=False,
        channel=Channel.WECHAT_BALANCE,
        provider="wechatpay",
        product="h5",
        lines=[line],
        total_fen=TOTAL_FEN,
    )
    return inp.model_copy(update=changes)


@dataclass
class FakeSteps:
    """The script the fakes follow, and what they were asked and stored."""

    # The amount the verdict prices: another one than the quote's is a policy change.
    priced_fen: int = TOTAL_FEN
    # The verdict rejects for this reason (None: accepted).
    reject: RejectReason | None = None
    # Whether the payer paid: the channel's queries answer SUCCESS from then on.
    paid: bool = False
    # query_payment answers NOTPAY until the payer paid; close_payment_order then says this.
    state_at_close: PaymentState = PaymentState.CLOSED
    # The agency's answers: submit_posting gives the first, each check_posting the next.
    posting: list[PostingState] = field(default_factory=lambda: [PostingState.ACCEPTED])
    # The channel's refund answers, one per request_refund / check_refund, in order.
    refunds: list[RefundState] = field(default_factory=lambda: [RefundState.SUCCESS])
    # Refund steps fail this many times first: with REFUND_UNSETTLED (a conflict, an unknown
    # code; -1: for ever), then with a plain error the step's retry policy retries.
    refund_unsettled: int = 0
    refund_transient: int = 0
    # The treasury has the money from this check on (1: the first).
    treasury_on_check: int = 1
    # While set and not released, this step waits before it stores anything.
    hold: str | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event)
    # What the workflow asked, in order, and the statuses storage would hold.
    calls: list[str] = field(default_factory=list)
    stored: list[ContributionStatus] = field(default_factory=list)
    released_months: bool = False
    refund_numbers: list[str] = field(default_factory=list)
    # The payer's messages asked for, in order (not in `calls`: they decide nothing), and
    # whether sending them fails every time (WeChat down).
    notices: list[str] = field(default_factory=list)
    notify_fails: bool = False
    _treasury_checks: int = 0

    async def _enter(self, step: Step[Any, Any]) -> None:
        self.calls.append(step.name)
        if self.hold == step.name:
            await self.released.wait()

    def activities(self) -> list[Callable[..., Awaitable[object]]]:
        async def verify(req: VerifyRequest) -> VerifyOutcome:
            await self._enter(Steps.VERIFY_AND_RESERVE)
            if self.reject is not None:
                self.stored.append(S.REJECTED)
                return VerifyOutcome(accepted=False, reason=self.reject)
            lines = req.contribution.lines
            return VerifyOutcome(
                accepted=True, assessment=AssessOutcome(lines=lines, total_fen=self.priced_fen)
            )

        async def create_order(req: ChargeRequest) -> PaymentOrder:
            await self._enter(Steps.CREATE_PAYMENT_ORDER)
            self.stored.append(S.AWAITING_PAYMENT)
            return PaymentOrder(
                out_trade_no=req.out_trade_no,
                cashier_url=None,
                prepay_id="wx_prepay",
                expires_at=req.expires_at,
                provider_state="NOTPAY",
            )

        async def query(out_trade_no: str) -> PaymentCheck:
            await self._enter(Steps.QUERY_PAYMENT)
            return self._order_state(out_trade_no, PaymentState.PENDING)

        async def close(out_trade_no: str) -> PaymentCheck:
            await self._enter(Steps.CLOSE_PAYMENT_ORDER)
            return self._order_state(out_trade_no, self.state_at_close)

        async def record_payment(req: RecordPaymentRequest) -> PaymentRecorded:
            await self._enter(Steps.RECORD_PAYMENT)
            self.stored.append(S.PAID)
            return PaymentRecorded(expected_treasury_date=req.at.date() + timedelta(days=3))

        async def submit(req: PostingRequestMsg) -> PostingCheck:
            await self._enter(Steps.SUBMIT_POSTING)
            self.stored.append(S.POSTING)
            return self._posted()

        async def check_posting(req: PostingCheckRequest) -> PostingCheck:
            await self._enter(Steps.CHECK_POSTING)
            return self._posted()

        async def request_refund(req: RefundOrder) -> RefundCheck:
            await self._enter(Steps.REQUEST_REFUND)
            self.refund_numbers.append(req.out_refund_no)
            self.stored.append(S.REFUNDING)
            self._refund_fault()
            return self._refund(req.out_refund_no)

        async def check_refund(req: RefundCheckRequest) -> RefundCheck:
            await self._enter(Steps.CHECK_REFUND)
            self._refund_fault()
            return self._refund(req.out_refund_no)

        async def check_treasury(req: TreasuryCheckRequest) -> TreasuryResult | None:
            await self._enter(Steps.CHECK_TREASURY)
            self._treasury_checks += 1
            if self._treasury_checks < self.treasury_on_check:
                return None
            self.stored.append(S.IN_TREASURY)
            return TreasuryResult(receipt_no="R1", treasury_date=req.at.date())

        async def certify(req: CertifyRequest) -> None:
            await self._enter(Steps.ISSUE_CERTIFICATE_ELIGIBILITY)
            self.stored.append(S.COMPLETED)

        async def record_status(change: StatusChange) -> None:
            await self._enter(Steps.RECORD_STATUS)
            self.stored.append(change.status)
            self.released_months = self.released_months or change.release_months

        async def notify_payer(notice: PayerNotice) -> None:
            self.notices.append(notice.kind.value)
            if self.notify_fails:
                raise ApplicationError("WeChat unreachable", type="TransientError")

        return [
            fake(Steps.VERIFY_AND_RESERVE, verify),
            fake(Steps.CREATE_PAYMENT_ORDER, create_order),
            fake(Steps.QUERY_PAYMENT, query),
            fake(Steps.CLOSE_PAYMENT_ORDER, close),
            fake(Steps.RECORD_PAYMENT, record_payment),
            fake(Steps.SUBMIT_POSTING, submit),
            fake(Steps.CHECK_POSTING, check_posting),
            fake(Steps.REQUEST_REFUND, request_refund),
            fake(Steps.CHECK_REFUND, check_refund),
            fake(Steps.CHECK_TREASURY, check_treasury),
            fake(Steps.ISSUE_CERTIFICATE_ELIGIBILITY, certify),
            fake(Steps.RECORD_STATUS, record_status),
            fake(Steps.NOTIFY_PAYER, notify_payer),
        ]

    def _order_state(self, out_trade_no: str, unpaid: PaymentState) -> PaymentCheck:
        """What the channel says of the order: paid once the payer paid, else `unpaid`."""
        paid = self.paid or unpaid == PaymentState.PAID
        state = PaymentState.PAID if paid else unpaid
        words = {PaymentState.PAID: "SUCCESS", PaymentState.PENDING: "NOTPAY"}
        return PaymentCheck(
            out_trade_no=out_trade_no,
            state=state,
            provider_state=words.get(state, state.value),
            transaction_id="wx_tx" if paid else None,
            amount_fen=TOTAL_FEN if paid else 0,
            paid_at=activity.info().current_attempt_scheduled_time if paid else None,
        )

    def _refund_fault(self) -> None:
        if self.refund_unsettled != 0:
            self.refund_unsettled -= 1 if self.refund_unsettled > 0 else 0
            raise ApplicationError(
                "TRADE_ERROR: 交易错误", "TRADE_ERROR", type=REFUND_UNSETTLED, non_retryable=True
            )
        if self.refund_transient > 0:
            self.refund_transient -= 1
            raise RuntimeError("SYSTEM_ERROR")

    def _posted(self) -> PostingCheck:
        state = self.posting.pop(0) if len(self.posting) > 1 else self.posting[0]
        if state == PostingState.ACCEPTED:
            self.stored.append(S.POSTED)
        reason = "记账失败" if state == PostingState.REJECTED else None
        return PostingCheck(posting_id="P1", state=state, reason=reason)

    def _refund(self, out_refund_no: str) -> RefundCheck:
        state = self.refunds.pop(0) if len(self.refunds) > 1 else self.refunds[0]
        if state == RefundState.SUCCESS:
            self.stored.append(S.REFUNDED)
            self.released_months = True
        return RefundCheck(out_refund_no=out_refund_no, status=state)


@dataclass
class Policies:
    """A worker with the fakes on the time-skipping server, and how a test drives it."""

    env: WorkflowEnvironment
    steps: FakeSteps
    task_queue: str

    async def start(
        self, inp: ContributionInput | None = None, **options: Any
    ) -> WorkflowHandle[ContributionWorkflow, Any]:
        return await start_contribution(
            self.env.client, inp or contribution_input(), self.task_queue, **options
        )

    async def pay(self, handle: WorkflowHandle[ContributionWorkflow, Any]) -> PaymentOrder:
        """The payer pays and the channel's callback arrives."""
        self.steps.paid = True
        return await self.notify(handle)

    async def notify(self, handle: WorkflowHandle[ContributionWorkflow, Any]) -> PaymentOrder:
        """A SUCCESS notice for the order reaches the workflow (whether or not anyone paid)."""
        order = await handle.execute_update(ContributionWorkflow.payment_details)
        await handle.signal(
            ContributionWorkflow.payment_notified,
            PaymentNotice(
                event_id="EV1",
                out_trade_no=order.out_trade_no,
                state=PaymentState.PAID,
                provider_state="SUCCESS",
                transaction_id="wx_tx",
                amount_fen=TOTAL_FEN,
                success_time=datetime.combine(date(2026, 1, 5), datetime.min.time()),
            ),
        )
        return order

    async def in_review(
        self, inp: ContributionInput | None = None
    ) -> WorkflowHandle[ContributionWorkflow, Any]:
        """Start, pay, and wait until the refund the script fails puts it in MANUAL_REVIEW."""
        handle = await self.start(inp)
        await self.pay(handle)
        await self.until(handle, S.MANUAL_REVIEW)
        return handle

    async def until(
        self, handle: WorkflowHandle[ContributionWorkflow, Any], status: ContributionStatus
    ) -> None:
        """Skip time, a few minutes at a go, until the workflow shows `status`."""
        for _ in range(100):
            if (await handle.query(ContributionWorkflow.status)).status == status:
                return
            await self.env.sleep(timedelta(minutes=5))
        raise AssertionError(f"never reached {status.value}")


@asynccontextmanager
async def policies(env: WorkflowEnvironment, steps: FakeSteps) -> AsyncIterator[Policies]:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[ContributionWorkflow],
        activities=steps.activities(),
        # A bug in the workflow fails the test at once instead of retrying the task.
        workflow_failure_exception_types=[Exception],
    ):
        yield Policies(env, steps, task_queue)
