"""The seams activities and services call, each wired to a simulator or a real client."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.payments.interface import PaymentChannel
from adapters.payments.wechatpay.callback import CallbackVerifier
from adapters.posting.interface import PostingSystem
from adapters.treasury.interface import Treasury


@dataclass
class Adapters:
    """The seams activities and routes call, each a simulator or a real client."""

    payments: PaymentChannel
    posting: PostingSystem
    treasury: Treasury
    # Verifies WeChat Pay callbacks for the notify route; None when the channel is the
    # in-process simulator (it hands its callbacks over directly).
    wechatpay_callbacks: CallbackVerifier | None = None
