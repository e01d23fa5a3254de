"""The treasury (国库/TIPS) contract: receipt query models and the Treasury protocol."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class TreasuryQuery(BaseModel):
    """Has the money of one payment reached the treasury? `voucher_no` is our out_trade_no."""

    model_config = ConfigDict(frozen=True)

    voucher_no: str
    amount_fen: int = Field(gt=0)
    paid_at: AwareDatetime
    lag_business_days: int = Field(ge=0)


class TreasuryReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    receipt_no: str
    voucher_no: str
    amount_fen: int
    treasury_date: date  # the treasury's business date (Asia/Shanghai)
    received_at: AwareDatetime


class Treasury(Protocol):
    async def query_receipt(self, q: TreasuryQuery) -> TreasuryReceipt | None:
        """The receipt once the money is in the treasury; None while it is not yet."""
        ...
