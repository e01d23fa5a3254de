"""Our payment order numbers: how the workflow forms them and how reconciliation knows them."""

from __future__ import annotations

import re
from typing import Final

# "SB", the contribution's id (24 lowercase hex), a two-digit attempt: 28 characters, within
# WeChat Pay's 6–32 for out_trade_no. Nothing else on a shared merchant account looks like it.
_OURS: Final = re.compile(r"SB[0-9a-f]{24}[0-9]{2}")


def payment_order_no(contribution_id: str, attempt: int = 1) -> str:
    """The order number of a contribution's payment, fixed before the channel is called."""
    return f"SB{contribution_id}{attempt:02d}"


def is_our_order_no(out_trade_no: str) -> bool:
    """Whether this service could have created the order (not whether storage holds it)."""
    return _OURS.fullmatch(out_trade_no) is not None
