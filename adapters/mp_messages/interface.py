"""What sending a message to a payer's WeChat takes and gives, whoever carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TemplateMessage:
    """A 模板消息: to an openid, with the template's fields and the page it opens."""

    openid: str
    template_id: str
    url: str
    # Field name → value, as the template declares them (first, keyword1…, remark).
    data: dict[str, str] = field(default_factory=dict)


class PayerMessenger(Protocol):
    """Sends one message; answers WeChat's msgid or raises an adapters.errors classification."""

    async def send(self, message: TemplateMessage) -> str: ...
