"""The social-insurance agency (社保经办) posting contract: models and PostingSystem protocol."""

from __future__ import annotations

from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.vocabulary import PostingState


class PostingRequest(BaseModel):
    """Post (记账) paid months to a payer's account; `posting_ref` is our contribution id."""

    model_config = ConfigDict(frozen=True)

    posting_ref: str
    payer_ref: str
    insurance: str
    months: list[str] = Field(min_length=1)
    amount_fen: int = Field(gt=0)
    paid_at: AwareDatetime


class PostingResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    posting_id: str
    state: PostingState
    reason: str | None  # the agency's reason for a rejection, in Chinese
    confirmed_at: AwareDatetime | None


class PostingSystem(Protocol):
    async def submit(self, req: PostingRequest) -> PostingResult:
        """Submit a posting; idempotent per posting_ref (a repeat returns the same posting)."""
        ...

    async def status(self, posting_id: str) -> PostingResult:
        """The posting's current state; NotFoundError if unknown."""
        ...
