"""ContributionWorkflow: one contribution from verification to certificate, crash-proof."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.localtime import SHANGHAI
    from domain.order_numbers import payment_order_no
    from domain.payer_messages import MessageKind
    from domain.payments import PaymentState, RefundState
    from domain.review import refund_review_reason, refund_unsettled_reason
    from domain.vocabulary import (
        INSURANCE_LABELS,
        ContributionStatus,
        PostingState,
        RejectReason,
    )
    from workflows import search_attributes as sa
    from workflows import summaries
    from workflows.cleartext import ClearText
    from workflows.contract import (
        PAYMENT_NOTIFIED,
        REFUND_NOTIFIED,
        REFUND_UNSETTLED,
        CancelRequest,
        CertifyRequest,
        ChargeRequest,
        ContributionInput,
        ContributionView,
        PayerNotice,
        PaymentCheck,
        PaymentNotice,
        PaymentOrder,
        PaymentRecorded,
        PaymentView,
        PostingCheck,
        PostingCheckRequest,
        PostingRequestMsg,
        RecordPaymentRequest,
        RefundCheck,
        RefundCheckRequest,
        RefundNotice,
        RefundOrder,
        RefundView,
        ResolveReview,
        ReviewAction,
        StatusChange,
        Step,
        TimelineEntry,
        TreasuryCheckRequest,
        TreasuryResult,
        VerifyOutcome,
        VerifyRequest,
    )
    from workflows.contract import ContributionSteps as Steps

S = ContributionStatus
In = TypeVar("In")
Out = TypeVar("Out")

# No error types are named here: a policy matches them by class name, which libraries share
# (SQLAlchemy has an InvalidRequestError too). An activity whose error retrying cannot fix fails
# as non-retryable itself (activities/classified_errors.py, ApplicationError(non_retryable=True)).
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
STEP_TIMEOUT = timedelta(seconds=30)
# A message to the payer is tried a few times, then left on the 消息 page: WeChat being down
# must never hold up posting, a refund or the certificate.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)

# Steps that only touch our own database run as local activities: in the worker, recorded as a
# marker with the next workflow task, with no round trip through the server's task queues. Every
# call to another system stays an ordinary activity. Its arguments are then fixed in history:
# a local activity whose workflow task is retried (a worker killed mid-task) is called again
# with arguments computed anew, and a payment order re-sent with another expiry is refused by
# the channel as a different order under the same number (OUT_TRADE_NO_USED).
LOCAL_STEPS = frozenset(
    {
        Steps.VERIFY_AND_RESERVE.name,
        Steps.RECORD_PAYMENT.name,
        Steps.ISSUE_CERTIFICATE_ELIGIBILITY.name,
        Steps.RECORD_STATUS.name,
    }
)
# WeChat Pay asks merchants to poll refunds after 1, 5, 10, 20 and 30 minutes, then steadily.
REFUND_POLL_SCHEDULE_S = (60, 4 * 60, 5 * 60, 10 * 60, 10 * 60)

# A refund step the channel keeps answering with a conflict or an unknown code (REFUND_UNSETTLED)
# is tried again this many times, waiting longer each time, and within this long; then an
# operator decides. Transient errors are not counted: the step's own retry policy keeps at them.
REFUND_UNSETTLED_ATTEMPTS = 6
REFUND_UNSETTLED_WAIT_S = (60, 5 * 60, 15 * 60, 30 * 60, 60 * 60)
REFUND_UNSETTLED_DEADLINE = timedelta(hours=6)

# Before the expected treasury date there is little point asking more often than this.
TREASURY_MAX_BACKOFF = timedelta(hours=6)


class RefundUnsettled(Exception):
    """The bounded retries of a refund step ran out (the channel's code, no personal data)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


STATUSES_BEFORE_PAYMENT = frozenset({S.VERIFYING, S.AWAITING_PAYMENT})
ENDED_UNPAID = frozenset({S.REJECTED, S.EXPIRED, S.CANCELLED})


@workflow.defn
class ContributionWorkflow:
    """Verify → assess → charge → await payment → post → (refund) → treasury → certificate."""

    def __init__(self) -> None:
        self._input: ContributionInput | None = None
        self._status = S.VERIFYING
        self._timeline: list[TimelineEntry] = []
        self._reject_reason: RejectReason | None = None
        self._holder: str | None = None
        self._order: PaymentOrder | None = None
        self._payment: PaymentCheck | None = None
        self._seen_events: set[str] = set()
        # A callback said SUCCESS: the channel is asked before anything is recorded.
        self._notified = False
        self._refund: RefundView | None = None
        self._refund_notice: RefundNotice | None = None
        self._posting: PostingCheck | None = None
        self._expected_treasury: date | None = None
        self._expected_treasury_provisional = False
        self._treasury: TreasuryResult | None = None
        self._cancel_requested = False
        self._review_reason: str | None = None
        self._resolution: ResolveReview | None = None
        # Updates answer only once storage holds what they lead to: the status a step last
        # persisted, and whether an operator's decision has reached storage yet.
        self._stored: ContributionStatus | None = None
        self._resolution_stored = True
        # The status last published as a search attribute; starters set VERIFYING (sa.initial).
        self._announced: ContributionStatus = S.VERIFYING

    # ---- the lifecycle -----------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: ContributionInput) -> ContributionView:
        self._input = inp
        self._enter(S.VERIFYING)
        cid = inp.contribution_id

        verdict: VerifyOutcome = await self._step(
            Steps.VERIFY_AND_RESERVE,
            VerifyRequest(contribution=inp, at=workflow.now()),
            summary="verify payer and reserve months",
        )
        if not verdict.accepted:
            self._holder = verdict.holder_contribution_id
            return await self._finish_unpaid(S.REJECTED, verdict.reason, release=False)

        # An accepted verdict carries the amount, priced with the policy book it read.
        assessment = verdict.assessment
        if assessment is None or assessment.total_fen != inp.total_fen:
            # The policy changed between quote and start: never charge an amount nobody saw.
            return await self._finish_unpaid(S.REJECTED, RejectReason.QUOTE_CHANGED)

        if self._cancel_requested:
            return await self._finish_unpaid(S.CANCELLED, None)

        # Order number and expiry are fixed here, before the call, so every retry is identical.
        now = workflow.now()
        order_request = ChargeRequest(
            contribution_id=cid,
            out_trade_no=payment_order_no(cid),
            amount_fen=inp.total_fen,
            expires_at=now + timedelta(seconds=inp.timings.payment_window_s),
            channel=inp.channel,
            provider=inp.provider,
            product=inp.product,
            payer_openid=inp.payer_openid,
            payer_client_ip=inp.payer_client_ip,
            description=f"{INSURANCE_LABELS[inp.insurance]} {inp.months[0]}~{inp.months[-1]}",
            at=now,
        )
        try:
            self._order = await self._step(
                Steps.CREATE_PAYMENT_ORDER,
                order_request,
                summary="create payment order",
            )
        except ActivityError as err:
            workflow.logger.warning("payment order refused by the channel: %s", err.cause)
            return await self._finish_unpaid(S.REJECTED, RejectReason.PAYMENT_CHANNEL_REFUSED)
        self._enter(S.AWAITING_PAYMENT)

        paid = await self._await_payment(order_request.expires_at)
        if paid is None:
            status = S.CANCELLED if self._cancel_requested else S.EXPIRED
            return await self._finish_unpaid(status, None)
        self._payment = paid

        recorded: PaymentRecorded = await self._step(
            Steps.RECORD_PAYMENT,
            RecordPaymentRequest(
                contribution_id=cid,
                payment=paid,
                treasury_lag_business_days=verdict.treasury_lag_business_days,
                at=workflow.now(),
            ),
            summary="record payment",
        )
        self._expected_treasury = recorded.expected_treasury_date
        self._expected_treasury_provisional = recorded.calendar_fallback
        self._stored = S.PAID
        self._enter(S.PAID)
        await self._notify(MessageKind.PAYMENT_SUCCEEDED)

        posted = await self._post(paid)
        if not posted:
            await self._refund_until_final("社保经办机构记账失败，按原渠道退款")
            return await self._finish()

        self._enter(S.POSTED)
        await self._await_treasury(paid, verdict.treasury_lag_business_days)
        self._enter(S.IN_TREASURY)

        await self._step(
            Steps.ISSUE_CERTIFICATE_ELIGIBILITY,
            CertifyRequest(contribution_id=cid, at=workflow.now()),
            summary="issue certificate eligibility",
        )
        self._enter(S.COMPLETED)
        await self._notify(MessageKind.CERTIFICATE_AVAILABLE)
        return await self._finish()

    async def _await_payment(self, expires_at: datetime) -> PaymentCheck | None:
        """Wait for the callback; poll when it is late; at expiry close, then query once more."""
        assert self._order is not None and self._input is not None
        interval = timedelta(seconds=self._input.timings.payment_poll_interval_s)
        while True:
            if self._notified:
                # Anyone who reaches the Temporal frontend can send this signal: the channel's
                # own answer, not the notice, decides whether the order is paid.
                self._notified = False
                confirmed = await self._paid_at_channel("confirm the notified payment")
                if confirmed is not None:
                    return confirmed
                workflow.logger.warning("a payment notice the channel does not confirm: ignored")
                continue
            now = workflow.now()
            if self._cancel_requested or now >= expires_at:
                # Closing first, then asking: a payer may have paid in the very last second.
                final: PaymentCheck = await self._step(
                    Steps.CLOSE_PAYMENT_ORDER,
                    self._order.out_trade_no,
                    summary="close unpaid order, then query",
                )
                return final if final.state == PaymentState.PAID else None
            timeout = min(interval, expires_at - now)
            try:
                self._announce()
                await workflow.wait_condition(
                    lambda: self._notified or self._cancel_requested,
                    timeout=timeout,
                    timeout_summary=self._waiting(
                        summaries.awaiting_payment(expires_at, now + timeout)
                    ),
                )
            except TimeoutError:
                check = await self._paid_at_channel("query payment (no callback yet)")
                if check is not None:
                    return check

    async def _paid_at_channel(self, summary: str) -> PaymentCheck | None:
        """The channel's word on the order: its payment when PAID, else None."""
        assert self._order is not None
        check: PaymentCheck = await self._step(
            Steps.QUERY_PAYMENT, self._order.out_trade_no, summary=summary
        )
        return check if check.state == PaymentState.PAID else None

    async def _post(self, paid: PaymentCheck) -> bool:
        """Submit to the social-insurance agency and wait for its verdict."""
        assert self._input is not None
        inp = self._input
        posting: PostingCheck = await self._step(
            Steps.SUBMIT_POSTING,
            PostingRequestMsg(
                contribution_id=inp.contribution_id,
                payer_ref=inp.payer_ref,
                insurance=inp.insurance,
                months=inp.months,
                amount_fen=inp.total_fen,
                paid_at=paid.paid_at or workflow.now(),
                at=workflow.now(),
            ),
            summary="submit for posting",
        )
        self._posting = posting
        self._enter(S.POSTING)
        interval = timedelta(seconds=inp.timings.posting_poll_interval_s)
        while posting.state == PostingState.PENDING:
            self._announce()
            await workflow.sleep(
                interval,
                summary=self._waiting(summaries.posting_check(workflow.now() + interval)),
            )
            posting = await self._step(
                Steps.CHECK_POSTING,
                PostingCheckRequest(
                    contribution_id=inp.contribution_id,
                    posting_id=posting.posting_id,
                    at=workflow.now(),
                ),
                summary="check posting",
            )
            self._posting = posting
        return posting.state == PostingState.ACCEPTED

    async def _refund_until_final(self, reason: str) -> None:
        """Refund through the original channel; follow it to SUCCESS or hand it to an operator."""
        assert self._input is not None and self._payment is not None
        inp = self._input
        attempt = 1
        while True:
            order = RefundOrder(
                contribution_id=inp.contribution_id,
                out_refund_no=f"RF{inp.contribution_id}{attempt:02d}",
                out_trade_no=self._payment.out_trade_no,
                amount_fen=inp.total_fen,
                total_fen=inp.total_fen,
                reason=reason,
                at=workflow.now(),
            )
            self._refund = RefundView(
                out_refund_no=order.out_refund_no,
                status=RefundState.PROCESSING,
                amount_fen=order.amount_fen,
                requested_at=order.at,
            )
            self._enter(S.REFUNDING)
            review_reason: str | None = None
            try:
                check: RefundCheck = await self._refund_step(
                    Steps.REQUEST_REFUND, order, summary="request refund"
                )
                # The step stored REFUNDING (REFUNDED if the channel was quick): a retry is in.
                self._resolution_stored = True
                if attempt == 1:
                    await self._notify(MessageKind.REFUND_STARTED)
                check = await self._follow_refund(check)
            except RefundUnsettled as err:
                review_reason = refund_unsettled_reason(err.code)
                check = RefundCheck(out_refund_no=order.out_refund_no, status=RefundState.ABNORMAL)
            except ActivityError as err:
                workflow.logger.warning("refund refused by the channel: %s", err.cause)
                check = RefundCheck(out_refund_no=order.out_refund_no, status=RefundState.ABNORMAL)
            self._refund = self._refund.model_copy(update={"status": check.status})
            if check.status == RefundState.SUCCESS:
                self._enter(S.REFUNDED)
                await self._notify(MessageKind.REFUND_ARRIVED)
                return
            # CLOSED or ABNORMAL: never dropped silently — an operator decides.
            self._review_reason = review_reason or refund_review_reason(check.status)
            await self._record(
                S.MANUAL_REVIEW, detail=check.status.value, review_reason=review_reason
            )
            self._resolution_stored = True  # a retry the channel refused is back in review
            self._resolution = None
            self._announce()
            # No timer: an operator may take days. Current details say what it waits for.
            self._waiting(summaries.manual_review(workflow.now()))
            await workflow.wait_condition(lambda: self._resolution is not None)
            assert self._resolution is not None
            if self._resolution.action == ReviewAction.MARK_REFUNDED:
                await self._record(
                    S.REFUNDED, detail="operator: refunded outside the channel", release=True
                )
                self._resolution_stored = True
                await self._notify(MessageKind.REFUND_ARRIVED)
                return
            attempt += 1

    async def _follow_refund(self, check: RefundCheck) -> RefundCheck:
        assert self._input is not None
        schedule = list(REFUND_POLL_SCHEDULE_S)
        while check.status == RefundState.PROCESSING:
            wait = timedelta(
                seconds=schedule.pop(0) if schedule else self._input.timings.refund_poll_interval_s
            )
            self._refund_notice = None
            with contextlib.suppress(TimeoutError):
                self._announce()
                await workflow.wait_condition(
                    lambda: self._refund_notice is not None,
                    timeout=wait,
                    timeout_summary=self._waiting(summaries.refund_check(workflow.now() + wait)),
                )
            check = await self._refund_step(
                Steps.CHECK_REFUND,
                RefundCheckRequest(
                    contribution_id=self._input.contribution_id,
                    out_refund_no=check.out_refund_no,
                    at=workflow.now(),
                ),
                summary="check refund",
            )
        return check

    async def _refund_step(
        self, step: Step[In, RefundCheck], arg: In, *, summary: str
    ) -> RefundCheck:
        """A refund step, tried again on REFUND_UNSETTLED answers until the bound runs out."""
        started = workflow.now()
        waits = list(REFUND_UNSETTLED_WAIT_S)
        attempt = 1
        while True:
            try:
                return await self._step(step, arg, summary=summary)
            except ActivityError as err:
                cause = err.cause
                if not isinstance(cause, ApplicationError) or cause.type != REFUND_UNSETTLED:
                    raise
                code = str(cause.details[0]) if cause.details else "UNKNOWN"
                spent = workflow.now() - started
                if attempt >= REFUND_UNSETTLED_ATTEMPTS or spent >= REFUND_UNSETTLED_DEADLINE:
                    raise RefundUnsettled(code) from err
                workflow.logger.warning("refund step %s unsettled (%s), retrying", step.name, code)
                attempt += 1
                self._announce()
                wait = timedelta(seconds=waits.pop(0) if len(waits) > 1 else waits[0])
                await workflow.sleep(
                    wait,
                    summary=self._waiting(
                        summaries.refund_retry(
                            step.name, attempt, REFUND_UNSETTLED_ATTEMPTS, workflow.now() + wait
                        )
                    ),
                )

    async def _await_treasury(self, paid: PaymentCheck, lag_days: int) -> None:
        """Poll the treasury (入库): backing off until the expected date, then steadily.

        The backoff keeps a multi-day wait to a few dozen polls in history, while a fast
        treasury (the demo's simulator) is still noticed within a few poll intervals.
        """
        assert self._input is not None and self._expected_treasury is not None
        inp = self._input
        base = timedelta(seconds=inp.timings.treasury_poll_interval_s)
        expected_at = datetime.combine(self._expected_treasury, time(9), tzinfo=SHANGHAI)
        request = TreasuryCheckRequest(
            contribution_id=inp.contribution_id,
            out_trade_no=paid.out_trade_no,
            amount_fen=inp.total_fen,
            paid_at=paid.paid_at or workflow.now(),
            lag_business_days=lag_days,
            at=workflow.now(),
        )
        interval = base
        while True:
            receipt: TreasuryResult | None = await self._step(
                Steps.CHECK_TREASURY,
                request.model_copy(update={"at": workflow.now()}),
                summary="check treasury receipt",
            )
            if receipt is not None:
                self._treasury = receipt
                return
            self._announce()
            await workflow.sleep(
                interval,
                summary=self._waiting(
                    summaries.treasury_check(
                        workflow.now() + interval,
                        self._expected_treasury,
                        provisional=self._expected_treasury_provisional,
                    )
                ),
            )
            early = workflow.now() + interval * 2 < expected_at
            interval = min(interval * 2, TREASURY_MAX_BACKOFF) if early else base

    # ---- messages ------------------------------------------------------------------------------

    @workflow.signal(name=PAYMENT_NOTIFIED)
    def payment_notified(self, notice: PaymentNotice) -> None:
        """A channel callback: only a reason to ask the channel (_await_payment), never proof.

        Duplicates, foreign and failed events are ignored without asking.
        """
        if notice.event_id in self._seen_events:
            return
        self._seen_events.add(notice.event_id)
        if (
            self._order is None
            or notice.out_trade_no != self._order.out_trade_no
            or notice.state != PaymentState.PAID
            or self._input is None
            or notice.amount_fen != self._input.total_fen
            or self._payment is not None
        ):
            return
        self._notified = True

    @workflow.signal(name=REFUND_NOTIFIED)
    def refund_notified(self, notice: RefundNotice) -> None:
        if self._refund is not None and notice.out_refund_no == self._refund.out_refund_no:
            self._refund_notice = notice

    @workflow.update
    async def payment_details(self) -> PaymentOrder:
        """Returns the payment order once it exists, or fails with why there will be none."""
        await workflow.wait_condition(
            lambda: self._order is not None or self._status not in STATUSES_BEFORE_PAYMENT
        )
        if self._order is not None:
            return self._order
        reason = self._reject_reason.value if self._reject_reason else self._status.value
        raise ApplicationError(
            "no payment for this contribution",
            {"reason": reason, "holder_contribution_id": self._holder},
            type=reason,
            non_retryable=True,
        )

    @workflow.update
    async def cancel(self, request: CancelRequest) -> ContributionView:
        """Answers once storage holds the outcome: CANCELLED, or the payment that came first."""
        self._cancel_requested = True
        await workflow.wait_condition(
            lambda: self._stored in ENDED_UNPAID or self._stored == S.PAID
        )
        if self._stored in ENDED_UNPAID and self._stored != S.CANCELLED:
            # Rejected (say, while VERIFYING) before the cancel could take effect.
            raise ApplicationError("already ended", type="ALREADY_FINISHED", non_retryable=True)
        if self._stored != S.CANCELLED:
            raise ApplicationError("already paid", type="ALREADY_PAID", non_retryable=True)
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._status not in STATUSES_BEFORE_PAYMENT or self._payment is not None:
            raise ApplicationError("already paid", type="ALREADY_PAID")

    @workflow.update
    async def resolve_review(self, decision: ResolveReview) -> ContributionView:
        """Answers once storage holds the status the decision leads to (_refund_until_final)."""
        self._resolution = decision
        self._resolution_stored = False
        await workflow.wait_condition(lambda: self._resolution_stored)
        return self.status()

    @resolve_review.validator
    def _validate_resolve(self, decision: ResolveReview) -> None:
        if self._status != S.MANUAL_REVIEW:
            raise ApplicationError("not in manual review", type="NOT_IN_REVIEW")
        if not decision.note.strip():
            raise ApplicationError("a note is required", type="NOTE_REQUIRED")

    @workflow.query
    def status(self) -> ContributionView:
        inp = self._input
        assert inp is not None
        payment = None
        if self._order is not None:
            paid = self._payment
            payment = PaymentView(
                out_trade_no=self._order.out_trade_no,
                channel=inp.channel,
                cashier_url=self._order.cashier_url,
                expires_at=self._order.expires_at,
                state=paid.state if paid else PaymentState.PENDING,
                provider_state=paid.provider_state if paid else self._order.provider_state,
                transaction_id=paid.transaction_id if paid else None,
                paid_at=paid.paid_at if paid else None,
                paid_with=paid.paid_with if paid else None,
            )
        return ContributionView(
            contribution_id=inp.contribution_id,
            status=self._status,
            timeline=list(self._timeline),
            insurance=inp.insurance,
            months=inp.months,
            total_fen=inp.total_fen,
            channel=inp.channel,
            payment=payment,
            refund=self._refund,
            reject_reason=self._reject_reason,
            holder_contribution_id=self._holder,
            posting_state=self._posting.state if self._posting else None,
            posting_reason=self._posting.reason if self._posting else None,
            expected_treasury_date=self._expected_treasury,
            expected_treasury_provisional=self._expected_treasury_provisional,
            treasury_date=self._treasury.treasury_date if self._treasury else None,
            certificate_ready=self._status == S.COMPLETED,
            review_reason=self._review_reason,
        )

    # ---- helpers -------------------------------------------------------------------------------

    async def _step(self, step: Step[In, Out], arg: In, *, summary: str) -> Out:
        local = step.name in LOCAL_STEPS
        # A wait's details (_waiting) end with it: the step is what happens now.
        workflow.set_current_details(summaries.details(self._status))
        if not local:
            self._announce()  # the workflow now waits on the server
        execute = workflow.execute_local_activity if local else workflow.execute_activity
        result: Out = await execute(
            step.name,
            arg,
            result_type=step.result_type,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
            # Step names only: readable in Temporal UI without the codec key.
            summary=ClearText(summary),
        )
        return result

    async def _notify(self, kind: MessageKind) -> None:
        """Tell the payer (消息, and WeChat when bound); a message that fails is only logged."""
        assert self._input is not None
        self._announce()
        try:
            await workflow.execute_activity(
                Steps.NOTIFY_PAYER.name,
                PayerNotice(
                    contribution_id=self._input.contribution_id, kind=kind, at=workflow.now()
                ),
                result_type=Steps.NOTIFY_PAYER.result_type,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
                summary=ClearText(f"notify payer: {kind.value}"),
            )
        except ActivityError as err:
            workflow.logger.warning("payer message %s not delivered: %s", kind.value, err.cause)

    def _enter(self, status: ContributionStatus) -> None:
        """Move the in-memory state machine and what operators see (no personal data)."""
        self._status = status
        self._timeline.append(TimelineEntry(status=status, at=workflow.now()))
        workflow.set_current_details(summaries.details(status))

    def _waiting(self, summary: ClearText) -> ClearText:
        """The summary of the wait about to begin, also shown as the workflow's current details
        (Temporal UI's 'Current Details', `temporal workflow describe`) until the next step."""
        workflow.set_current_details(summaries.details(self._status, summary))
        return summary

    def _announce(self) -> None:
        """Publish ContributionStatus before the workflow waits on the server (timer, signal,
        activity): statuses passed within one workflow task (POSTING → POSTED, IN_TREASURY →
        COMPLETED) cost one search-attribute update, not one each. The status query is always
        exact; the search attribute is what operators filter by between steps."""
        if self._announced != self._status:
            workflow.upsert_search_attributes(
                [sa.CONTRIBUTION_STATUS.value_set(self._status.value)]
            )
            self._announced = self._status

    async def _record(
        self,
        status: ContributionStatus,
        *,
        detail: str | None = None,
        release: bool = False,
        review_reason: str | None = None,
    ) -> None:
        """Persist a status that no step activity records on its own, then enter it.

        In this order the status an update waits for is one storage already holds.
        """
        assert self._input is not None
        await self._step(
            Steps.RECORD_STATUS,
            StatusChange(
                contribution_id=self._input.contribution_id,
                status=status,
                at=workflow.now(),
                detail=detail,
                reject_reason=self._reject_reason,
                release_months=release,
                review_reason=review_reason,
            ),
            summary=f"record {status.value}",
        )
        self._stored = status
        self._enter(status)

    async def _finish_unpaid(
        self, status: ContributionStatus, reason: RejectReason | None, *, release: bool = True
    ) -> ContributionView:
        """End without money kept: release the months so they can be paid again."""
        self._reject_reason = reason
        await self._record(status, detail=reason.value if reason else None, release=release)
        return await self._finish()

    async def _finish(self) -> ContributionView:
        # Let running update handlers (cancel, resolve) answer before the run completes.
        self._announce()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()
