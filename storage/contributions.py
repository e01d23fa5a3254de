"""Contributions, their months, the month reservations that guard double payment, and records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.payments import RefundState
from domain.vocabulary import (
    Channel,
    ContributionStatus,
    Insurance,
    PostingState,
    RejectReason,
)
from storage._sql import insert_or_get, table_of
from storage.errors import NotFound
from storage.models import (
    Contribution,
    ContributionMonth,
    MonthReservation,
    Payment,
    Posting,
    Refund,
    StatusHistory,
    TreasuryReceipt,
)


class MonthsTaken(Exception):
    """Some of the months are held by another live contribution."""

    def __init__(self, contribution_id: str, months: list[str]) -> None:
        # Ids and months only: no personal data in messages.
        super().__init__(f"months held by contribution {contribution_id}: {', '.join(months)}")
        self.contribution_id = contribution_id
        self.months = months


async def create_contribution(
    session: AsyncSession,
    *,
    contribution_id: str,
    person_id: str,
    payer_ref: str,
    insurance: Insurance,
    months: Sequence[str],
    grade: int,
    back_payment: bool,
    channel: Channel,
    quote_id: str | None,
    total_fen: int,
    lines: Sequence[Mapping[str, Any]],
    requested_by_person_id: str | None,
    status: ContributionStatus,
    at: datetime,
    detail: str | None = None,
) -> Contribution:
    """Create the contribution with one row per month and its first status; idempotent.

    Each line is a mapping with month, base_fen, amount_fen and interest_fen (default 0). When
    the id already exists the stored contribution is returned unchanged.
    """
    if sorted(line["month"] for line in lines) != sorted(months):
        raise ValueError("lines must cover exactly the contribution's months")
    contribution, inserted = await insert_or_get(
        session,
        Contribution,
        {
            "id": contribution_id,
            "person_id": person_id,
            "payer_ref": payer_ref,
            "insurance": insurance,
            "months": sorted(months),
            "grade": grade,
            "back_payment": back_payment,
            "channel": channel,
            "quote_id": quote_id,
            "total_fen": total_fen,
            "status": status,
            "requested_by_person_id": requested_by_person_id,
            "created_at": at,
            "updated_at": at,
        },
    )
    if inserted:
        # Only the transaction that created the contribution adds its children, so a retry
        # (which finds the row) never duplicates them.
        await session.execute(
            insert(table_of(ContributionMonth)),
            [
                {
                    "contribution_id": contribution_id,
                    "person_id": person_id,
                    "insurance": insurance,
                    "month": line["month"],
                    "base_fen": int(line["base_fen"]),
                    "amount_fen": int(line["amount_fen"]),
                    "interest_fen": int(line.get("interest_fen", 0)),
                }
                for line in sorted(lines, key=lambda line: str(line["month"]))
            ],
        )
        await session.execute(
            insert(table_of(StatusHistory)).values(
                contribution_id=contribution_id, status=status, at=at, detail=detail
            )
        )
    return contribution


async def get_contribution(session: AsyncSession, contribution_id: str) -> Contribution | None:
    return await session.get(Contribution, contribution_id)


async def contribution_months(
    session: AsyncSession, contribution_id: str
) -> list[ContributionMonth]:
    result = await session.execute(
        select(ContributionMonth)
        .where(ContributionMonth.contribution_id == contribution_id)
        .order_by(ContributionMonth.month)
    )
    return list(result.scalars())


async def count_by_status(session: AsyncSession) -> dict[ContributionStatus, int]:
    """How many contributions are in each status (statuses with none are absent)."""
    rows = (
        await session.execute(
            select(Contribution.status, func.count()).group_by(Contribution.status)
        )
    ).all()
    return {ContributionStatus(status): int(n) for status, n in rows}


async def list_contributions(
    session: AsyncSession,
    *,
    status: ContributionStatus | None = None,
    month: str | None = None,
    person_id: str | None = None,
    limit: int = 100,
) -> list[Contribution]:
    """Newest first, optionally only one status, one fee month, or one person's."""
    stmt = select(Contribution)
    if status is not None:
        stmt = stmt.where(Contribution.status == status)
    if person_id is not None:
        stmt = stmt.where(Contribution.person_id == person_id)
    if month is not None:
        stmt = stmt.where(
            Contribution.id.in_(
                select(ContributionMonth.contribution_id).where(ContributionMonth.month == month)
            )
        )
    stmt = stmt.order_by(Contribution.created_at.desc(), Contribution.id).limit(limit)
    result = await session.execute(stmt)
    return list(result.scalars())


# --- month reservations ----------------------------------------------------------------------


async def _holders(
    session: AsyncSession, person_id: str, insurance: Insurance, months: Iterable[str]
) -> dict[str, str]:
    result = await session.execute(
        select(MonthReservation.month, MonthReservation.contribution_id).where(
            MonthReservation.person_id == person_id,
            MonthReservation.insurance == insurance,
            MonthReservation.month.in_(list(months)),
        )
    )
    return {month: holder for month, holder in result}


def _taken_by_others(holders: Mapping[str, str], contribution_id: str) -> MonthsTaken | None:
    taken = sorted(month for month, holder in holders.items() if holder != contribution_id)
    if not taken:
        return None
    return MonthsTaken(holders[taken[0]], taken)


async def reserve_months(
    session: AsyncSession,
    *,
    contribution_id: str,
    person_id: str,
    insurance: Insurance,
    months: Sequence[str],
    at: datetime | None = None,
) -> None:
    """Reserve all the months for the contribution, or none of them (raises MonthsTaken).

    Months the same contribution already holds are fine, so a retried call succeeds. The
    primary key (person, insurance, month) is the guard: the insert skips the months someone
    holds (waiting for a concurrent holder's commit), in one round trip when all are free, and
    only when some were skipped are the holders read, and the months this call took given back
    if another contribution holds one. The caller's transaction stays usable either way.
    """
    wanted = sorted(set(months))
    created_at = at or datetime.now(UTC)
    table = table_of(MonthReservation)
    for _attempt in range(3):
        result = await session.execute(
            pg_insert(table)
            .values(
                [
                    {
                        "person_id": person_id,
                        "insurance": insurance,
                        "month": month,
                        "contribution_id": contribution_id,
                        "created_at": created_at,
                    }
                    for month in wanted
                ]
            )
            .on_conflict_do_nothing()
            .returning(table.c.month)
        )
        taken_now = list(result.scalars())
        if len(taken_now) == len(wanted):
            return
        holders = await _holders(session, person_id, insurance, wanted)
        taken = _taken_by_others(holders, contribution_id)
        if taken is not None:
            if taken_now:
                await session.execute(
                    delete(table).where(
                        table.c.person_id == person_id,
                        table.c.insurance == insurance,
                        table.c.month.in_(taken_now),
                        table.c.contribution_id == contribution_id,
                    )
                )
            raise taken
        if all(holders.get(month) == contribution_id for month in wanted):
            return  # a retry, or a concurrent retry of this same reservation: same outcome
        # A holder released a month between the insert and the look: try again.
    raise RuntimeError("month reservations kept changing under the reservation")


async def release_months(session: AsyncSession, contribution_id: str) -> int:
    """Free every month the contribution holds; returns how many were freed (0 on a retry)."""
    result = await session.execute(
        delete(MonthReservation)
        .where(MonthReservation.contribution_id == contribution_id)
        .returning(MonthReservation.month)
    )
    return len(result.all())


async def held_months(
    session: AsyncSession, person_id: str, insurance: Insurance
) -> dict[str, tuple[str, ContributionStatus]]:
    """Month → (holding contribution, its status); PAID_STATUSES tells paid from in flight."""
    result = await session.execute(
        select(MonthReservation.month, Contribution.id, Contribution.status)
        .join(Contribution, Contribution.id == MonthReservation.contribution_id)
        .where(MonthReservation.person_id == person_id, MonthReservation.insurance == insurance)
        .order_by(MonthReservation.month)
    )
    return {month: (holder, status) for month, holder, status in result}


# --- status ----------------------------------------------------------------------------------


async def set_status(
    session: AsyncSession,
    contribution_id: str,
    status: ContributionStatus,
    at: datetime,
    detail: str | None = None,
    *,
    reject_reason: RejectReason | None = None,
    holder_contribution_id: str | None = None,
    review_reason: str | None = None,
    out_trade_no: str | None = None,
    paid_at: datetime | None = None,
    expected_treasury_date: date | None = None,
    expected_treasury_provisional: bool | None = None,
) -> bool:
    """Move the contribution to status and set the given fields; False when nothing changed.

    A history row is appended only when the status changes, so a retried activity leaves one
    entry: the contribution's status is always its latest history row's (both are written only
    here and in create_contribution). Fields passed as None are left as they are. Every step of
    every contribution comes through here, so it is one statement (one round trip): the row is
    read FOR UPDATE, updated only if a given field differs, and the history row inserted only
    if the status it had differs, in data-modifying CTEs that see the row as locked.
    """
    wanted: dict[str, Any] = {
        "status": status,
        "reject_reason": reject_reason,
        "holder_contribution_id": holder_contribution_id,
        "review_reason": review_reason,
        "out_trade_no": out_trade_no,
        "paid_at": paid_at,
        "expected_treasury_date": expected_treasury_date,
        "expected_treasury_provisional": expected_treasury_provisional,
    }
    wanted = {k: v for k, v in wanted.items() if v is not None}
    params = {
        "contribution_id": contribution_id,
        "at": at,
        "detail": detail,
        **{f"new_{k}": v for k, v in wanted.items()},
    }
    row = (await session.execute(_set_status_statement(tuple(wanted)), params)).one()
    if not row.found:
        raise NotFound("contribution", contribution_id)
    return bool(row.changed)


@cache
def _set_status_statement(fields: tuple[str, ...]) -> Any:
    """The statement for one set of fields to set, built once: its values are bound parameters
    (contribution_id, at, detail, new_<field>). Building the CTEs anew for every call cost more
    of the worker's CPU than running them."""
    # Core statements on the tables, not the ORM's get-and-flush: the ORM's identity map and
    # unit of work cost more than the statement. FOR UPDATE so that two concurrent callers
    # cannot both append the same status: the second waits, then sees the first's status.
    table = table_of(Contribution)
    history = table_of(StatusHistory)
    new = {k: bindparam(f"new_{k}", type_=table.c[k].type) for k in fields}
    old = (
        select(table.c.id, *(table.c[k] for k in fields))
        .where(table.c.id == bindparam("contribution_id", type_=table.c.id.type))
        .with_for_update()
        .cte("old")
    )
    updated = (
        update(table)
        .where(
            table.c.id == old.c.id,
            or_(*(old.c[k].is_distinct_from(new[k]) for k in fields)),
        )
        .values(**new, updated_at=bindparam("at", type_=table.c.updated_at.type))
        .returning(old.c.status.label("was"))
        .cte("updated")
    )
    appended = (
        insert(history)
        .from_select(
            ["contribution_id", "status", "at", "detail"],
            select(
                bindparam("contribution_id", type_=history.c.contribution_id.type),
                bindparam("new_status", type_=history.c.status.type),
                bindparam("at", type_=history.c.at.type),
                bindparam("detail", type_=history.c.detail.type),
            ).where(updated.c.was.is_distinct_from(new["status"])),
        )
        .returning(history.c.id)
        .cte("appended")
    )
    return select(
        select(func.count()).select_from(old).scalar_subquery().label("found"),
        select(func.count()).select_from(updated).scalar_subquery().label("changed"),
        select(func.count()).select_from(appended).scalar_subquery().label("appended"),
    )


async def status_history(session: AsyncSession, contribution_id: str) -> list[StatusHistory]:
    result = await session.execute(
        select(StatusHistory)
        .where(StatusHistory.contribution_id == contribution_id)
        .order_by(StatusHistory.at, StatusHistory.id)
    )
    return list(result.scalars())


# --- records (社保费申报查询) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundInfo:
    out_refund_no: str
    status: RefundState
    amount_fen: int


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One month of one contribution, with everything the records pages show about it."""

    record_id: int
    contribution_id: str
    person_id: str
    month: str
    insurance: Insurance
    base_fen: int
    amount_fen: int
    interest_fen: int
    status: ContributionStatus
    paid_at: datetime | None
    out_trade_no: str | None
    transaction_id: str | None
    posting_id: str | None
    posting_state: PostingState | None
    treasury_date: date | None
    refund: RefundInfo | None
    expected_treasury_date: date | None
    expected_treasury_provisional: bool = False


# Built once: a Select is immutable (.where() returns a new one), and building this join costs
# about a tenth of a records read.
@cache
def _records_query() -> Any:
    cm = ContributionMonth
    return (
        select(
            cm.id,
            cm.contribution_id,
            cm.person_id,
            cm.month,
            cm.insurance,
            cm.base_fen,
            cm.amount_fen,
            cm.interest_fen,
            Contribution.status,
            Contribution.paid_at,
            Contribution.out_trade_no,
            Payment.transaction_id,
            Posting.posting_id,
            Posting.state,
            TreasuryReceipt.treasury_date,
            Contribution.expected_treasury_date,
            Contribution.expected_treasury_provisional,
        )
        .join(Contribution, Contribution.id == cm.contribution_id)
        .outerjoin(Payment, Payment.out_trade_no == Contribution.out_trade_no)
        .outerjoin(Posting, Posting.contribution_id == Contribution.id)
        .outerjoin(TreasuryReceipt, TreasuryReceipt.contribution_id == Contribution.id)
        # A refused contribution never held the months: it is not a record.
        .where(Contribution.status != ContributionStatus.REJECTED)
    )


async def _latest_refunds(
    session: AsyncSession, contribution_ids: set[str]
) -> dict[str, RefundInfo]:
    if not contribution_ids:
        return {}
    result = await session.execute(
        select(Refund)
        .where(Refund.contribution_id.in_(contribution_ids))
        .order_by(Refund.requested_at, Refund.out_refund_no)
    )
    latest: dict[str, RefundInfo] = {}
    for refund in result.scalars():
        latest[refund.contribution_id] = RefundInfo(
            refund.out_refund_no, refund.status, refund.amount_fen
        )
    return latest


async def _to_records(session: AsyncSession, rows: Sequence[Any]) -> list[RecordRow]:
    refunds = await _latest_refunds(session, {row[1] for row in rows})
    return [
        RecordRow(
            record_id=row[0],
            contribution_id=row[1],
            person_id=row[2],
            month=row[3],
            insurance=row[4],
            base_fen=row[5],
            amount_fen=row[6],
            interest_fen=row[7],
            status=row[8],
            paid_at=row[9],
            out_trade_no=row[10],
            transaction_id=row[11],
            posting_id=row[12],
            posting_state=row[13],
            treasury_date=row[14],
            refund=refunds.get(row[1]),
            expected_treasury_date=row[15],
            expected_treasury_provisional=bool(row[16]),
        )
        for row in rows
    ]


async def list_records(
    session: AsyncSession,
    person_id: str,
    from_month: str,
    to_month: str,
    *,
    insurance: Insurance | None = None,
) -> list[RecordRow]:
    """The person's months from from_month to to_month (inclusive, "YYYY-MM"), by month."""
    stmt = _records_query().where(
        ContributionMonth.person_id == person_id,
        ContributionMonth.month >= from_month,
        ContributionMonth.month <= to_month,
    )
    if insurance is not None:
        stmt = stmt.where(ContributionMonth.insurance == insurance)
    result = await session.execute(stmt.order_by(ContributionMonth.month, ContributionMonth.id))
    return await _to_records(session, result.all())


async def get_record(session: AsyncSession, record_id: int) -> RecordRow | None:
    """One record by id; the caller checks that record.person_id may be shown."""
    result = await session.execute(_records_query().where(ContributionMonth.id == record_id))
    records = await _to_records(session, result.all())
    return records[0] if records else None


# --- live (unpaid) contributions: one per quote, and who holds a payer's months -------------

LIVE_UNPAID: Final = (ContributionStatus.VERIFYING, ContributionStatus.AWAITING_PAYMENT)


async def live_for_quote(session: AsyncSession, quote_id: str) -> Contribution | None:
    """The contribution still awaiting payment that was started from this quote, if any."""
    result = await session.execute(
        select(Contribution)
        .where(Contribution.quote_id == quote_id, Contribution.status.in_(LIVE_UNPAID))
        .order_by(Contribution.created_at)
        .limit(1)
    )
    return result.scalars().first()


async def live_holders(
    session: AsyncSession, person_id: str, insurance: Insurance, months: Sequence[str]
) -> list[Contribution]:
    """The unpaid contributions holding any of these months of the person, oldest first."""
    holding = select(MonthReservation.contribution_id).where(
        MonthReservation.person_id == person_id,
        MonthReservation.insurance == insurance,
        MonthReservation.month.in_(list(months)),
    )
    result = await session.execute(
        select(Contribution)
        .where(Contribution.id.in_(holding), Contribution.status.in_(LIVE_UNPAID))
        .order_by(Contribution.created_at, Contribution.id)
    )
    return list(result.scalars())
