"""The contribution workflow's activities: thin, idempotent steps over storage and adapters."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.errors import (
    AdapterError,
    AuthError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    TransientError,
    UnknownCodeError,
)
from adapters.payments.interface import CreateOrder, RefundRequest
from adapters.payments.registry import PaymentProviders, Provider, UnknownProvider
from adapters.posting.interface import PostingRequest, PostingSystem
from adapters.treasury.interface import Treasury, TreasuryQuery
from domain.assessment import assess as assess_months
from domain.calendar import BusinessCalendar
from domain.eligibility import check_months
from domain.errors import DomainError
from domain.localtime import SHANGHAI, shanghai_date
from domain.months import Month
from domain.payments import PaymentState, RefundState
from domain.policy import PolicyBook
from domain.review import refund_review_reason
from domain.vocabulary import (
    ContributionStatus,
    Insurance,
    PostingState,
    RejectReason,
)
from services.payer_facts import held_months, payer_facts
from services.payer_messages import PayerMessages
from storage import calendars, contributions, payments, persons, postings, refunds, treasury
from storage.models import Contribution
from storage.policy_book import load_policy_book
from workflows.contract import (
    REFUND_UNSETTLED,
    AssessOutcome,
    CertifyRequest,
    ChargeRequest,
    PayerNotice,
    PaymentCheck,
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
    TreasuryCheckRequest,
    TreasuryResult,
    VerifyOutcome,
    VerifyRequest,
)
from workflows.contract import ContributionSteps as Steps

S = ContributionStatus
log = logging.getLogger(__name__)


# A refund answer retrying the same call cannot be expected to change: the workflow bounds it.
_UNSETTLED_REFUND = (ConflictError, OutcomeUnknownError, UnknownCodeError, NotFoundError)


def _refund_unsettled(err: AdapterError) -> ApplicationError:
    """Ends the attempt; the workflow counts these and hands a stuck refund to an operator."""
    return ApplicationError(str(err), err.code, type=REFUND_UNSETTLED, non_retryable=True)


def _non_retryable(err: Exception) -> ApplicationError:
    """Adapter errors that retrying cannot fix end the step (the type names the class)."""
    return ApplicationError(str(err), type=type(err).__name__, non_retryable=True)


class ContributionActivities:
    """Holds the database and the adapters; each method is one activity."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: PaymentProviders,
        posting_system: PostingSystem,
        treasury_system: Treasury,
        *,
        base_url: str,
        calendar: BusinessCalendar | None = None,
        messages: PayerMessages | None = None,
    ) -> None:
        self._sessions = sessions
        self._providers = providers
        self._posting = posting_system
        self._treasury = treasury_system
        # The public base URL: each provider's notify route hangs under it.
        self._base_url = base_url
        self._calendar = calendar or BusinessCalendar()
        # Without a messenger, the payer's messages are kept for the pages only.
        self._messages = messages or PayerMessages(sessions, None, base_url)

    def all(self) -> list[Callable[..., Awaitable[object]]]:
        """Every activity, for the worker's registration."""
        return [
            self.verify_and_reserve,
            self.create_payment_order,
            self.query_payment,
            self.close_payment_order,
            self.record_payment,
            self.submit_posting,
            self.check_posting,
            self.request_refund,
            self.check_refund,
            self.check_treasury,
            self.issue_certificate_eligibility,
            self.record_status,
            self.notify_payer,
        ]

    # ---- verify and assess ---------------------------------------------------------------------

    @activity.defn(name=Steps.VERIFY_AND_RESERVE.name)
    async def verify_and_reserve(self, req: VerifyRequest) -> VerifyOutcome:
        """Payer registered and eligible for every month; months reserved all-or-nothing."""
        c = req.contribution
        # Everything the verdict needs is read first, in a transaction of its own, so the write
        # transaction below is short. Reading early is safe: the reservation's primary key, not
        # this look, decides who gets a month (a month taken meanwhile fails with MonthsTaken).
        async with self._sessions() as session:
            existing = await contributions.get_contribution(session, c.contribution_id)
            if existing is not None and existing.status != S.VERIFYING:
                # A retry after the outcome was written: answer the same again.
                return await self._previous_verdict(session, existing, req.at)
            person = await persons.get_person(session, c.person_id)
            # The same facts, spelled the same way, as the quote the payer saw.
            facts = await payer_facts(session, person, c.insurance) if person else None
            if person is None or facts is None:
                # Nothing to attach a row to: the API checks this too, so it is only a race.
                return VerifyOutcome(accepted=False, reason=RejectReason.NOT_REGISTERED)
            book = await load_policy_book(session)
            reason: RejectReason | None = None
            holder: str | None = None
            held = await held_months(session, person, c.insurance, excluding=c.contribution_id)
            months = [Month.parse(m) for m in c.months]
            try:
                check_months(
                    facts,
                    months,
                    c.back_payment,
                    shanghai_date(req.at),
                    book,
                    set(held.paid),
                    set(held.in_flight),
                    c.insurance,
                )
            except DomainError as err:
                reason = RejectReason(err.code)
                if reason == RejectReason.MONTH_IN_FLIGHT:
                    holder = held.holder_of(months)
        year = Month.parse(c.months[0]).year
        lag = book.policy(c.insurance, year).treasury_lag_business_days
        # Priced on the same Asia/Shanghai date as the quote: the UTC date is the day before
        # from 00:00 to 08:00, which moves interest a month on the 1st of every month.
        on = shanghai_date(req.at)
        assessment = (
            _assessment(book, c.insurance, c.months, c.grade, on) if reason is None else None
        )
        async with self._sessions.begin() as session:
            stored = await contributions.create_contribution(
                session,
                contribution_id=c.contribution_id,
                person_id=c.person_id,
                payer_ref=c.payer_ref,
                insurance=c.insurance,
                months=c.months,
                grade=c.grade,
                back_payment=c.back_payment,
                channel=c.channel,
                quote_id=c.quote_id,
                total_fen=c.total_fen,
                lines=[line.model_dump() for line in c.lines],
                requested_by_person_id=c.requested_by_person_id,
                status=S.VERIFYING,
                at=req.at,
            )
            if stored.status != S.VERIFYING:
                # Another attempt of this step decided meanwhile: give its answer, not a second.
                return await self._previous_verdict(session, stored, req.at)
            if reason is None:
                try:
                    await contributions.reserve_months(
                        session,
                        contribution_id=c.contribution_id,
                        person_id=c.person_id,
                        insurance=c.insurance,
                        months=c.months,
                    )
                except contributions.MonthsTaken as taken:
                    reason, holder = RejectReason.MONTH_IN_FLIGHT, taken.contribution_id
            if reason is not None:
                await contributions.set_status(
                    session,
                    c.contribution_id,
                    S.REJECTED,
                    req.at,
                    reason.value,
                    reject_reason=reason,
                    # Written with the verdict, so the status page names the holder from storage.
                    holder_contribution_id=holder,
                )
                return VerifyOutcome(accepted=False, reason=reason, holder_contribution_id=holder)
            return VerifyOutcome(
                accepted=True, treasury_lag_business_days=lag, assessment=assessment
            )

    async def _previous_verdict(
        self, session: AsyncSession, contribution: Contribution, at: datetime
    ) -> VerifyOutcome:
        if contribution.status == S.REJECTED:
            reason = RejectReason(contribution.reject_reason or RejectReason.NOT_ELIGIBLE)
            # A retry must answer exactly as the first attempt did, holder included: the
            # workflow task that saw the first answer may have been retried (a local activity
            # then runs again), and the payer is told who holds the month.
            holder = contribution.holder_contribution_id
            return VerifyOutcome(accepted=False, reason=reason, holder_contribution_id=holder)
        book = await load_policy_book(session)
        year = Month.parse(contribution.months[0]).year
        lag = book.policy(contribution.insurance, year).treasury_lag_business_days
        return VerifyOutcome(
            accepted=True,
            treasury_lag_business_days=lag,
            assessment=_assessment(
                book,
                contribution.insurance,
                contribution.months,
                contribution.grade,
                shanghai_date(at),
            ),
        )

    # ---- charge and await payment --------------------------------------------------------------

    async def _provider_of(self, out_trade_no: str) -> Provider:
        """The provider the contribution recorded for this order (not today's default)."""
        async with self._sessions() as session:
            payment = await payments.get_payment(session, out_trade_no)
        if payment is None:
            raise ApplicationError(f"no payment {out_trade_no}", type="NotFound")
        # Unknown here: this worker lacks the provider's registration; retrying waits for one.
        return self._providers.get(payment.provider)

    async def _provider_of_refund(self, out_refund_no: str) -> Provider:
        async with self._sessions() as session:
            refund = await refunds.get_refund(session, out_refund_no)
        if refund is None:
            raise ApplicationError(f"no refund {out_refund_no}", type="NotFound")
        return await self._provider_of(refund.out_trade_no)

    @activity.defn(name=Steps.CREATE_PAYMENT_ORDER.name)
    async def create_payment_order(self, req: ChargeRequest) -> PaymentOrder:
        """Create the channel order; a lost response is resolved by querying, never re-guessed."""
        try:
            provider = self._providers.get(req.provider)
            if req.product not in provider.products:
                raise UnknownProvider(f"{req.provider} has no product {req.product}")
        except UnknownProvider as err:
            # Settings named a provider (or product) this worker lacks: no order, say so now.
            raise _non_retryable(err) from err
        async with self._sessions.begin() as session:
            await payments.add_payment(
                session,
                out_trade_no=req.out_trade_no,
                contribution_id=req.contribution_id,
                channel=req.channel,
                amount_fen=req.amount_fen,
                expires_at=req.expires_at,
                at=req.at,
                provider=provider.name,
                product=req.product,
                provider_state=provider.pending_state,
            )
        order = CreateOrder(
            out_trade_no=req.out_trade_no,
            description=req.description,
            amount_fen=req.amount_fen,
            time_expire=req.expires_at,
            channel=req.channel,
            product=req.product,
            payer_openid=req.payer_openid,
            payer_client_ip=req.payer_client_ip,
            notify_url=provider.notify_url(self._base_url),
        )
        try:
            created = await provider.channel.create_order(order)
        except OutcomeUnknownError:
            # The order may exist: identical parameters make the retry safe, so try once more.
            created = await provider.channel.create_order(order)
        except (InvalidRequestError, AuthError, ConflictError) as err:
            raise _non_retryable(err) from err
        async with self._sessions.begin() as session:
            if created.cashier_url is not None:
                await payments.set_cashier_url(session, req.out_trade_no, created.cashier_url)
            await contributions.set_status(
                session,
                req.contribution_id,
                S.AWAITING_PAYMENT,
                req.at,
                out_trade_no=req.out_trade_no,
            )
        # Ids and states only; the line carries the request id of the start (workflows.propagation).
        log.info("contribution %s: payment order %s created", req.contribution_id, req.out_trade_no)
        return PaymentOrder(
            out_trade_no=created.out_trade_no,
            cashier_url=created.cashier_url,
            prepay_id=created.prepay_id,
            expires_at=created.expires_at,
            provider_state=provider.pending_state,
            jsapi=created.jsapi,
        )

    async def _query(self, provider: Provider, out_trade_no: str) -> PaymentCheck:
        status = await provider.channel.query_order(out_trade_no)
        check = PaymentCheck(
            out_trade_no=status.out_trade_no,
            state=status.state,
            provider_state=status.provider_state,
            transaction_id=status.transaction_id,
            amount_fen=status.amount_fen,
            paid_at=status.success_time,
            bank_type=status.bank_type,
            paid_with=provider.paid_with(status.bank_type),
        )
        async with self._sessions.begin() as session:
            await payments.update_payment_state(
                session,
                out_trade_no,
                status.state,
                status.provider_state,
                transaction_id=status.transaction_id,
                bank_type=status.bank_type,
                paid_at=status.success_time,
                at=datetime.now(tz=SHANGHAI),
            )
        return check

    @activity.defn(name=Steps.QUERY_PAYMENT.name)
    async def query_payment(self, out_trade_no: str) -> PaymentCheck:
        """Ask the channel when no callback came (callbacks get lost)."""
        provider = await self._provider_of(out_trade_no)
        try:
            return await self._query(provider, out_trade_no)
        except (InvalidRequestError, AuthError) as err:
            raise _non_retryable(err) from err

    @activity.defn(name=Steps.CLOSE_PAYMENT_ORDER.name)
    async def close_payment_order(self, out_trade_no: str) -> PaymentCheck:
        """Close an unpaid order, then query: the payer may have paid in the last second."""
        provider = await self._provider_of(out_trade_no)
        try:
            await provider.channel.close_order(out_trade_no)
        except (ConflictError, NotFoundError):
            pass  # ORDERPAID or already gone: the query below tells the truth.
        except (InvalidRequestError, AuthError) as err:
            raise _non_retryable(err) from err
        return await self._query(provider, out_trade_no)

    @activity.defn(name=Steps.RECORD_PAYMENT.name)
    async def record_payment(self, req: RecordPaymentRequest) -> PaymentRecorded:
        """The money is with us: PAID, with the expected treasury date in business days."""
        p = req.payment
        paid_at = p.paid_at or req.at
        paid_on = paid_at.astimezone(SHANGHAI).date()
        async with self._sessions.begin() as session:
            # The official tables an operator loaded replace the library and provisional years;
            # the lag is a few business days, so it never reaches beyond the next year.
            tables = await calendars.official_tables(session, [paid_on.year, paid_on.year + 1])
            expected = self._calendar.with_tables(tables).add_business_days(
                paid_on, req.treasury_lag_business_days
            )
            await payments.update_payment_state(
                session,
                p.out_trade_no,
                PaymentState.PAID,
                p.provider_state,
                transaction_id=p.transaction_id,
                bank_type=p.bank_type,
                paid_at=paid_at,
                at=req.at,
            )
            await contributions.set_status(
                session,
                req.contribution_id,
                S.PAID,
                req.at,
                paid_at=paid_at,
                expected_treasury_date=expected.date,
                expected_treasury_provisional=expected.provisional,
            )
        log.info("contribution %s: payment %s recorded", req.contribution_id, p.out_trade_no)
        return PaymentRecorded(
            expected_treasury_date=expected.date, calendar_fallback=expected.provisional
        )

    # ---- posting -------------------------------------------------------------------------------

    @activity.defn(name=Steps.SUBMIT_POSTING.name)
    async def submit_posting(self, req: PostingRequestMsg) -> PostingCheck:
        """Submit to the social-insurance agency (idempotent per contribution)."""
        result = await self._posting.submit(
            PostingRequest(
                posting_ref=req.contribution_id,
                payer_ref=req.payer_ref,
                insurance=req.insurance,
                months=req.months,
                amount_fen=req.amount_fen,
                paid_at=req.paid_at,
            )
        )
        async with self._sessions.begin() as session:
            await postings.upsert_posting(
                session,
                contribution_id=req.contribution_id,
                posting_id=result.posting_id,
                state=result.state,
                reason=result.reason,
                at=req.at,
            )
            await contributions.set_status(session, req.contribution_id, S.POSTING, req.at)
            if result.state == PostingState.ACCEPTED:
                await contributions.set_status(session, req.contribution_id, S.POSTED, req.at)
        return PostingCheck(posting_id=result.posting_id, state=result.state, reason=result.reason)

    @activity.defn(name=Steps.CHECK_POSTING.name)
    async def check_posting(self, req: PostingCheckRequest) -> PostingCheck:
        result = await self._posting.status(req.posting_id)
        async with self._sessions.begin() as session:
            await postings.upsert_posting(
                session,
                contribution_id=req.contribution_id,
                posting_id=result.posting_id,
                state=result.state,
                reason=result.reason,
                at=req.at,
            )
            if result.state == PostingState.ACCEPTED:
                await contributions.set_status(session, req.contribution_id, S.POSTED, req.at)
        return PostingCheck(posting_id=result.posting_id, state=result.state, reason=result.reason)

    # ---- refund --------------------------------------------------------------------------------

    @activity.defn(name=Steps.REQUEST_REFUND.name)
    async def request_refund(self, req: RefundOrder) -> RefundCheck:
        """Refund through the original channel; the refund number is fixed by the workflow."""
        provider = await self._provider_of(req.out_trade_no)
        async with self._sessions.begin() as session:
            await refunds.add_refund(
                session,
                out_refund_no=req.out_refund_no,
                contribution_id=req.contribution_id,
                out_trade_no=req.out_trade_no,
                amount_fen=req.amount_fen,
                reason=req.reason,
                at=req.at,
            )
            await contributions.set_status(session, req.contribution_id, S.REFUNDING, req.at)
        request = RefundRequest(
            out_refund_no=req.out_refund_no,
            out_trade_no=req.out_trade_no,
            amount_fen=req.amount_fen,
            total_fen=req.total_fen,
            reason=req.reason,
            notify_url=provider.notify_url(self._base_url),
        )
        try:
            try:
                status = await provider.channel.refund(request)
            except OutcomeUnknownError:
                # Same refund number: the channel refunds at most once, so asking is safe.
                status = await provider.channel.query_refund(req.out_refund_no)
        except (InvalidRequestError, AuthError) as err:
            raise _non_retryable(err) from err
        except _UNSETTLED_REFUND as err:
            raise _refund_unsettled(err) from err
        return await self._store_refund(
            req.contribution_id, status.out_refund_no, status.status, status.refund_id, req.at
        )

    @activity.defn(name=Steps.CHECK_REFUND.name)
    async def check_refund(self, req: RefundCheckRequest) -> RefundCheck:
        provider = await self._provider_of_refund(req.out_refund_no)
        try:
            status = await provider.channel.query_refund(req.out_refund_no)
        except _UNSETTLED_REFUND as err:
            raise _refund_unsettled(err) from err
        return await self._store_refund(
            req.contribution_id, req.out_refund_no, status.status, status.refund_id, req.at
        )

    async def _store_refund(
        self,
        contribution_id: str,
        out_refund_no: str,
        status: RefundState,
        refund_id: str | None,
        at: datetime,
    ) -> RefundCheck:
        async with self._sessions.begin() as session:
            await refunds.update_refund(session, out_refund_no, status, refund_id=refund_id, at=at)
            if status == RefundState.SUCCESS:
                # The money went back, so the months are free to be paid again.
                await contributions.set_status(session, contribution_id, S.REFUNDED, at)
                await contributions.release_months(session, contribution_id)
        return RefundCheck(out_refund_no=out_refund_no, status=status, refund_id=refund_id)

    # ---- treasury and certificate --------------------------------------------------------------

    @activity.defn(name=Steps.CHECK_TREASURY.name)
    async def check_treasury(self, req: TreasuryCheckRequest) -> TreasuryResult | None:
        """Has the money reached the treasury (入库)? None means not yet."""
        receipt = await self._treasury.query_receipt(
            TreasuryQuery(
                voucher_no=req.out_trade_no,
                amount_fen=req.amount_fen,
                paid_at=req.paid_at,
                lag_business_days=req.lag_business_days,
            )
        )
        if receipt is None:
            return None
        async with self._sessions.begin() as session:
            await treasury.record_receipt(
                session,
                contribution_id=req.contribution_id,
                receipt_no=receipt.receipt_no,
                amount_fen=receipt.amount_fen,
                treasury_date=receipt.treasury_date,
                at=req.at,
            )
            await contributions.set_status(session, req.contribution_id, S.IN_TREASURY, req.at)
        return TreasuryResult(receipt_no=receipt.receipt_no, treasury_date=receipt.treasury_date)

    @activity.defn(name=Steps.ISSUE_CERTIFICATE_ELIGIBILITY.name)
    async def issue_certificate_eligibility(self, req: CertifyRequest) -> None:
        """The months become certifiable (完税证明) and the contribution is complete."""
        async with self._sessions.begin() as session:
            await treasury.add_certifiable_months(session, req.contribution_id, req.at)
            await contributions.set_status(session, req.contribution_id, S.COMPLETED, req.at)

    @activity.defn(name=Steps.RECORD_STATUS.name)
    async def record_status(self, change: StatusChange) -> None:
        """Persist a status no step records itself (expired, cancelled, review, ...)."""
        async with self._sessions.begin() as session:
            await contributions.set_status(
                session,
                change.contribution_id,
                change.status,
                change.at,
                change.detail,
                reject_reason=change.reject_reason,
                review_reason=change.review_reason or _review_reason(change),
            )
            if change.release_months:
                await contributions.release_months(session, change.contribution_id)
        log.info("contribution %s: %s recorded", change.contribution_id, change.status.value)

    # ---- messages to the payer -----------------------------------------------------------------

    @activity.defn(name=Steps.NOTIFY_PAYER.name)
    async def notify_payer(self, notice: PayerNotice) -> None:
        """The payer's message of this kind: recorded once (its key), sent to WeChat once."""
        try:
            await self._messages.notify_contribution(notice.contribution_id, notice.kind, notice.at)
        except TransientError:
            raise  # left PENDING; the workflow's bounded retries try again
        except AdapterError as err:
            raise _non_retryable(err) from err


def _review_reason(change: StatusChange) -> str | None:
    """MANUAL_REVIEW's reason, from the refund state the workflow records as its detail."""
    if change.status != S.MANUAL_REVIEW or change.detail not in set(RefundState):
        return None
    return refund_review_reason(RefundState(change.detail))


def _assessment(
    book: PolicyBook, insurance: Insurance, months: Sequence[str], grade: int, on: date
) -> AssessOutcome:
    """The amount due per month under the book's (insurance, year) policies, as the verdict
    carries it. `on` is the verdict's Asia/Shanghai date, the date the quote priced on."""
    result = assess_months(book, [Month.parse(m) for m in months], grade, on, insurance)
    return AssessOutcome(
        lines=[QuoteLine.model_validate(line.model_dump()) for line in result.lines],
        total_fen=result.total_fen,
    )
