"""The facts eligibility rules need about a payer: registry data and months already held."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from domain.eligibility import PayerFacts, contribution_years
from domain.months import Month
from domain.vocabulary import PAID_STATUSES, Insurance
from storage import contributions, persons
from storage.models import REGISTRATION_ACTIVE, Contribution, Person, Registration


@dataclass(frozen=True)
class HeldMonths:
    """Months paid for good, and months in flight with the contribution holding each."""

    paid: frozenset[Month] = frozenset()
    in_flight: dict[Month, str] = field(default_factory=dict)

    @property
    def taken(self) -> set[Month]:
        return set(self.paid) | set(self.in_flight)

    def holder_of(self, months: Iterable[Month]) -> str | None:
        """The contribution holding the first of these months in flight (told to the payer)."""
        return next((self.in_flight[m] for m in months if m in self.in_flight), None)


async def payer_facts(db: AsyncSession, person: Person, insurance: Insurance) -> PayerFacts | None:
    """What the registry says; None when the person is not registered for the insurance."""
    return facts_of(person, await persons.get_registration(db, person.id, insurance))


def facts_of(person: Person, registration: Registration | None) -> PayerFacts | None:
    """payer_facts from a registration already loaded (None: not registered)."""
    if registration is None:
        return None
    return PayerFacts(
        birth_date=person.birth_date,
        sex=person.sex,
        registration_start=Month.parse(registration.start_month),
        registration_active=registration.status == REGISTRATION_ACTIVE,
        women_original_age=person.women_original_age,
    )


class ContributionYearsOut(BaseModel):
    """累计缴费年限: months paid through this service against the minimum in force."""

    months: int
    minimum_months: int
    # Months still missing to the minimum: after retirement, the person may keep paying these.
    short_months: int
    retirement_month: str | None


def contribution_years_out(
    facts: PayerFacts, today: date, paid: Iterable[Month]
) -> ContributionYearsOut:
    counted = contribution_years(facts, today, frozenset(paid))
    return ContributionYearsOut(
        months=counted.months,
        minimum_months=counted.minimum_months,
        short_months=counted.short_months,
        retirement_month=str(counted.retirement_month) if counted.retirement_month else None,
    )


async def held_months(
    db: AsyncSession, person: Person, insurance: Insurance, *, excluding: str | None = None
) -> HeldMonths:
    """The person's months held by contributions (other than `excluding`, the one asking)."""
    held = await contributions.held_months(db, person.id, insurance)
    others = {m: v for m, v in held.items() if v[0] != excluding}
    paid = frozenset(Month.parse(m) for m, (_, status) in others.items() if status in PAID_STATUSES)
    in_flight = {
        Month.parse(m): holder
        for m, (holder, status) in others.items()
        if status not in PAID_STATUSES
    }
    return HeldMonths(paid=paid, in_flight=in_flight)


async def started_by_others(
    db: AsyncSession, person: Person, insurance: Insurance, months: Iterable[str]
) -> list[Contribution]:
    """Unpaid contributions someone else started for the person that hold any of these months.

    The person's own start comes first: it closes these at the channel (contribution_start),
    and so their own quote is not refused because of them.
    """
    holders = await contributions.live_holders(db, person.id, insurance, list(months))
    return [c for c in holders if c.requested_by_person_id not in (None, person.id)]
