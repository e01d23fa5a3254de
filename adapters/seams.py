"""The seams activities and services call, each wired to a simulator or a real client."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.mp_messages.interface import PayerMessenger
from adapters.payments.registry import PaymentProviders
from adapters.posting.interface import PostingSystem
from adapters.treasury.interface import Treasury
from adapters.wechat.oauth import WeChatOAuth


@dataclass
class Adapters:
    """The seams activities and routes call, each a simulator or a real client."""

    # Every payment provider by name (its channel, callback verifier and notify route).
    payments: PaymentProviders
    posting: PostingSystem
    treasury: Treasury
    # The 公众号's template messages to payers (a simulator, or the WeChat client).
    messages: PayerMessenger
    # 网页授权 of the 公众号 (None: the pages never redirect payers inside WeChat).
    wechat_oauth: WeChatOAuth | None = None
