"""Times in responses: ISO 8601 in Asia/Shanghai (+08:00); the clocks the API reads."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import PlainSerializer

from domain.localtime import SHANGHAI


def local_iso(moment: datetime) -> str:
    """An aware datetime as ISO 8601 with the +08:00 offset (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).isoformat()


# A datetime field that serialises as local_iso in every response model.
LocalDateTime = Annotated[datetime, PlainSerializer(local_iso, return_type=str)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def shanghai_today() -> date:
    """Today in Asia/Shanghai: the date every business rule speaks of."""
    return datetime.now(SHANGHAI).date()
