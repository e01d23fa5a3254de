"""Pseudonymous payer reference (PayerRef search attribute): a keyed hash of ID type and number."""

from __future__ import annotations

import hashlib
import hmac

from domain.identity import parse_id_type
from domain.vocabulary import IdType

PREFIX = "p_"
_HEX_CHARS = 24  # 96 bits: collisions are negligible for any realistic registry


def payer_ref(key: str, id_type: IdType | str, number: str) -> str:
    """ "p_" + 24 hex chars of HMAC-SHA256(key, "<id_type>:<number>").

    Pass the normalised number (IdentityNumber.number) so every spelling maps to one reference.
    Keyed, so the reference cannot be reversed by hashing all ID numbers without the key.
    """
    if not key:
        raise ValueError("payer_ref needs a non-empty key")
    kind = parse_id_type(id_type)
    message = f"{kind.value}:{number}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    return PREFIX + digest[:_HEX_CHARS]
