"""A social-insurance posting (记账) state machine kept in the shared simulator database."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.clock import Clock
from adapters.errors import ConflictError, InvalidRequestError, NotFoundError
from adapters.posting.interface import PostingRequest, PostingResult, PostingSystem
from domain.vocabulary import PostingState
from simulators.config import SimConfig
from simulators.store import Forced, add_force, new_digits, postings, take_force

# Reasons the agency gives; none names the person, so they are safe in logs and histories.
REJECTION_REASONS: tuple[str, ...] = (
    "参保状态异常，记账失败",
    "缴费基数未核定，记账失败",
    "该月份已有缴费记录，记账失败",
    "个人账户处于冻结状态，记账失败",
)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_FORCE_KIND = "posting"


class PostingSimulator(PostingSystem):
    """Submissions stay PENDING until ready_at, then ACCEPTED or REJECTED (decided up front)."""

    def __init__(self, engine: AsyncEngine, clock: Clock, config: SimConfig) -> None:
        self._engine = engine
        self._clock = clock
        self._config = config

    async def force(
        self,
        amount_fen: int,
        outcome: Literal["REJECTED", "ACCEPTED"],
        reason: str | None = None,
    ) -> None:
        """Every posting of this amount submitted from now on ends with `outcome`."""
        if outcome not in (PostingState.REJECTED, PostingState.ACCEPTED):
            raise ValueError("outcome must be REJECTED or ACCEPTED")
        await add_force(
            self._engine,
            kind=_FORCE_KIND,
            amount_fen=amount_fen,
            outcome=outcome,
            reason=reason,
            now=self._clock(),
        )

    async def submit(self, req: PostingRequest) -> PostingResult:
        if not all(_MONTH.match(m) for m in req.months):
            raise InvalidRequestError("PARAM_ERROR", "费款所属期格式错误")
        # One transaction, as one call to the agency would be. A concurrent submission from
        # another process waits on the unique posting_ref, then is skipped: theirs is used.
        async with self._engine.begin() as conn:
            row = await self._by_ref(conn, req.posting_ref)
            if row is None:
                forced = await take_force(conn, kind=_FORCE_KIND, amount_fen=req.amount_fen)
                now = self._clock()
                state, reason = self._decide(req, forced)
                row = (
                    await conn.execute(
                        pg_insert(postings)
                        .values(
                            posting_id="JZ" + new_digits(18),
                            posting_ref=req.posting_ref,
                            payer_ref=req.payer_ref,
                            insurance=req.insurance,
                            months=list(req.months),
                            amount_fen=req.amount_fen,
                            paid_at=req.paid_at,
                            submitted_at=now,
                            ready_at=now + timedelta(seconds=self._config.posting_delay_s),
                            planned_state=state.value,
                            planned_reason=reason,
                            state=PostingState.PENDING.value,
                        )
                        .on_conflict_do_nothing(index_elements=[postings.c.posting_ref])
                        .returning(*postings.c)
                    )
                ).first() or await self._by_ref(conn, req.posting_ref)
            assert row is not None  # postings are never deleted
            if not (
                row.payer_ref == req.payer_ref
                and row.insurance == req.insurance
                and list(row.months) == list(req.months)
                and row.amount_fen == req.amount_fen
            ):
                raise ConflictError("POSTING_REF_USED", "业务流水号已用于其他记账")
            return await self._settle(conn, row)

    def _decide(
        self, req: PostingRequest, forced: Forced | None
    ) -> tuple[PostingState, str | None]:
        if forced is not None and forced.outcome == PostingState.ACCEPTED:
            return PostingState.ACCEPTED, None
        if forced is not None and forced.outcome == PostingState.REJECTED:
            return PostingState.REJECTED, forced.reason or REJECTION_REASONS[0]
        # Keyed by posting_ref: a resubmission or another process draws the same outcome.
        if self._config.draw("posting", req.posting_ref) < self._config.posting_failure_rate:
            pick = self._config.draw("posting-reason", req.posting_ref)
            return PostingState.REJECTED, REJECTION_REASONS[int(pick * len(REJECTION_REASONS))]
        return PostingState.ACCEPTED, None

    async def status(self, posting_id: str) -> PostingResult:
        async with self._engine.begin() as conn:
            return await self._settle(conn, await self._by_id(conn, posting_id))

    async def _settle(self, conn: AsyncConnection, row: Row[Any]) -> PostingResult:
        """The posting as it stands, its planned outcome applied first if it is due."""
        if row.state == PostingState.PENDING and self._clock() >= row.ready_at:
            accepted = row.planned_state == PostingState.ACCEPTED
            # Compare-and-set: whichever process looks first applies the outcome once.
            row = (
                await conn.execute(
                    update(postings)
                    .where(
                        postings.c.posting_id == row.posting_id,
                        postings.c.state == PostingState.PENDING.value,
                    )
                    .values(
                        state=row.planned_state,
                        reason=row.planned_reason,
                        confirmed_at=row.ready_at if accepted else None,
                    )
                    .returning(*postings.c)
                )
            ).first() or await self._by_id(conn, row.posting_id)
        return PostingResult(
            posting_id=row.posting_id,
            state=PostingState(row.state),
            reason=row.reason,
            confirmed_at=row.confirmed_at,
        )

    async def _by_ref(self, conn: AsyncConnection, posting_ref: str) -> Row[Any] | None:
        return (
            await conn.execute(select(postings).where(postings.c.posting_ref == posting_ref))
        ).first()

    async def _by_id(self, conn: AsyncConnection, posting_id: str) -> Row[Any]:
        row = (
            await conn.execute(select(postings).where(postings.c.posting_id == posting_id))
        ).first()
        if row is None:
            raise NotFoundError("RESOURCE_NOT_EXISTS", "记账流水不存在")
        return row
