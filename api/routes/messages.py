"""消息: the signed-in payer's messages, newest first, and their choice about reminders."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StrictBool

from api.auth import CurrentPerson
from api.openapi import SIGNED_IN, VALIDATION, errors
from api.state import State
from services.payer_messages import (
    MessageOut,
    MessageSettingsOut,
    messages_of,
    set_reminders,
    settings_of,
)

router = APIRouter(prefix="/api/v1/messages", tags=["messages"])


class MessageSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Strict: "false" or 0 must not opt anyone in or out by accident.
    reminders: StrictBool


@router.get("", response_model=list[MessageOut], responses=errors(SIGNED_IN))
async def list_messages(state: State, me: CurrentPerson) -> list[MessageOut]:
    """Payment results, refunds, certificates available and reminders, newest first."""
    return await messages_of(state, me)


@router.get("/settings", response_model=MessageSettingsOut, responses=errors(SIGNED_IN))
async def get_settings(state: State, me: CurrentPerson) -> MessageSettingsOut:
    return await settings_of(state, me)


@router.put("/settings", response_model=MessageSettingsOut, responses=errors(VALIDATION, SIGNED_IN))
async def put_settings(
    body: MessageSettingsIn, state: State, me: CurrentPerson
) -> MessageSettingsOut:
    """Opt in or out of reminders (results of one's own payments are always kept here)."""
    return await set_reminders(state, me, body.reminders)
